import type { DeviceKind } from './reading.ts';

/** Modbus function code used to read a point: 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers. */
export type FunctionCode = 1 | 2 | 3 | 4;
export type DataType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
/** Order of the two bytes inside each 16-bit register. */
export type ByteOrder = 'big' | 'little';
/** Order of the two registers of a 32-bit value. */
export type WordOrder = 'high-first' | 'low-first';

/** One value of a device's register map. Engineering value = raw × scale + offset. */
export interface RegisterPoint {
  metric: string;
  fc: FunctionCode;
  address: number;
  type: DataType;
  byteOrder: ByteOrder;
  wordOrder: WordOrder;
  scale: number;
  offset: number;
  engUnit?: string;
}

export interface DeviceProfile {
  name: string;
  kind: DeviceKind;
  points: RegisterPoint[];
}

/** Number of 16-bit registers (or bits, for FC 1/2) a data type occupies. */
export function registerCount(type: DataType): number {
  return type === 'int32' || type === 'uint32' || type === 'float32' ? 2 : 1;
}

type PointInput = Pick<RegisterPoint, 'metric' | 'fc' | 'address' | 'type'> & Partial<RegisterPoint>;

export function point(p: PointInput): RegisterPoint {
  return { byteOrder: 'big', wordOrder: 'high-first', scale: 1, offset: 0, ...p };
}

/**
 * The register maps of docs/devices.md, defined once: the simulators in `devices/` serve them and
 * the gateway decodes them.
 */
export const BUILTIN_PROFILES: Record<string, DeviceProfile> = {
  'tank-level': {
    name: 'tank-level',
    kind: 'tank',
    points: [
      point({ metric: 'level_mm', fc: 3, address: 0, type: 'uint16', engUnit: 'mm' }),
      point({ metric: 'pump_running', fc: 3, address: 1, type: 'uint16' }),
      point({ metric: 'float_low', fc: 2, address: 0, type: 'bool' }),
      point({ metric: 'float_high', fc: 2, address: 1, type: 'bool' }),
    ],
  },
  // Eastron SDM120-style: input registers, IEEE 754 float32, big-endian, high word first.
  'meter-electric': {
    name: 'meter-electric',
    kind: 'meter-electric',
    points: [
      point({ metric: 'voltage_v', fc: 4, address: 0x0000, type: 'float32', engUnit: 'V' }),
      point({ metric: 'current_a', fc: 4, address: 0x0006, type: 'float32', engUnit: 'A' }),
      point({ metric: 'power_w', fc: 4, address: 0x000c, type: 'float32', engUnit: 'W' }),
      point({ metric: 'energy_kwh', fc: 4, address: 0x0156, type: 'float32', engUnit: 'kWh' }),
    ],
  },
  'meter-water': {
    name: 'meter-water',
    kind: 'meter-water',
    points: [
      point({ metric: 'volume_m3', fc: 3, address: 0, type: 'uint32', scale: 0.001, engUnit: 'm3' }),
      point({ metric: 'flow_m3h', fc: 3, address: 2, type: 'float32', engUnit: 'm3/h' }),
    ],
  },
  'meter-gas': {
    name: 'meter-gas',
    kind: 'meter-gas',
    points: [point({ metric: 'volume_m3', fc: 3, address: 0, type: 'uint32', scale: 0.001, engUnit: 'm3' })],
  },
};
