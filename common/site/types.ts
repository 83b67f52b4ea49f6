import type { DeviceProfile } from '../profiles.ts';
import type { DeviceKind } from '../reading.ts';

export type WhenOutboxFull = 'drop-oldest' | 'reject-new';

export interface ModbusConnectionConfig {
  id: string;
  tcp?: { host: string; port: number };
  rtu?: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };
  timeoutMs: number;
  /** Unmapped registers a merged read may span to save a request. 0: only strictly adjacent. */
  maxGapRegisters: number;
}

export interface MqttMapping {
  ts?: string;
  metrics?: Record<string, string>;
  event?: string;
  attrs?: Record<string, string>;
}

export interface DeviceConfig {
  id: string;
  building: string;
  kind: DeviceKind;
  name: string;
  unit?: string;
  params: Record<string, number>;
  modbus?: { connection: string; unitId: number; profile: DeviceProfile; timeoutMs: number };
  mqtt?: { telemetryTopic: string; eventTopic: string; mapping?: MqttMapping };
}

export interface UnitConfig {
  id: string;
  building: string;
  floor?: number;
  area_m2?: number;
}

export interface BuildingConfig {
  id: string;
  name: string;
  type: 'residential' | 'office' | 'commercial';
  units: UnitConfig[];
  devices: DeviceConfig[];
}

export interface GatewayConfig {
  id: string;
  pollIntervalMs: number;
  outbox: { maxBytes: number; whenFull: WhenOutboxFull };
  store: { batchSize: number; flushIntervalMs: number; retention: string };
}

/** The validated, defaulted site file. */
export interface SiteConfig {
  /** Where it was read from, for messages. */
  file: string;
  site: { id: string; name: string; timezone: string; demo: boolean };
  gateway: GatewayConfig;
  modbus: { connections: ModbusConnectionConfig[] };
  profiles: Record<string, DeviceProfile>;
  buildings: BuildingConfig[];
  /** Every device of every building. */
  devices: DeviceConfig[];
  rules: Record<string, unknown>;
  inspections: unknown[];
}
