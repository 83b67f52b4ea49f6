import { ABNORMAL, CONTROL, FROM_METER, hex, type Frame } from './frame.ts';

/**
 * A DL/T 645-2007 data item (数据项, Appendix A): what the meter answers to a read of its data
 * identifier DI3 DI2 DI1 DI0, and the metric the gateway makes of it.
 */
export interface DataItem {
  /** DI3 DI2 DI1 DI0 as the standard writes it, e.g. `00010000`. */
  id: string;
  name: string;
  nameZh: string;
  metric: string;
  engUnit: string;
  /** The standard's data format, e.g. `XXXXXX.XX`. */
  format: string;
  /** Data bytes: BCD, low byte first. */
  bytes: number;
  /** Decimal places of the format. */
  decimals: number;
  /** The top bit of the highest byte is the sign (1: negative): currents, powers, combined energy. */
  signed: boolean;
  /** Engineering value = the standard's value × scale (kW → W: 1000). */
  scale: number;
}

/**
 * The data items the gateway reads, mapped to the metrics of the Modbus electricity meter
 * (`meter-electric`) so that rules and dashboards treat both meters alike.
 */
export const DATA_ITEMS: readonly DataItem[] = [
  { id: '00000000', name: 'combined active energy, total', nameZh: '组合有功总电能', metric: 'energy_kwh', engUnit: 'kWh', format: 'XXXXXX.XX', bytes: 4, decimals: 2, signed: true, scale: 1 },
  { id: '00010000', name: 'forward active energy, total', nameZh: '正向有功总电能', metric: 'energy_kwh', engUnit: 'kWh', format: 'XXXXXX.XX', bytes: 4, decimals: 2, signed: false, scale: 1 },
  { id: '02010100', name: 'phase A voltage', nameZh: 'A相电压', metric: 'voltage_v', engUnit: 'V', format: 'XXX.X', bytes: 2, decimals: 1, signed: false, scale: 1 },
  { id: '02020100', name: 'phase A current', nameZh: 'A相电流', metric: 'current_a', engUnit: 'A', format: 'XXX.XXX', bytes: 3, decimals: 3, signed: true, scale: 1 },
  { id: '02030000', name: 'active power, total', nameZh: '瞬时总有功功率', metric: 'power_w', engUnit: 'W', format: 'XX.XXXX (kW)', bytes: 3, decimals: 4, signed: true, scale: 1000 },
];

/** What a meter reads when its device block names no `dataItems`. */
export const DEFAULT_DATA_ITEMS: readonly string[] = ['00010000', '02010100', '02020100', '02030000'];

export function dataItem(id: string): DataItem | undefined {
  return DATA_ITEMS.find((d) => d.id === id.toLowerCase());
}

/** DI0 DI1 DI2 DI3: the identifier in the order it goes on the wire. */
export function identifierBytes(id: string): Uint8Array {
  if (!/^[0-9a-fA-F]{8}$/.test(id)) throw new RangeError(`data identifier '${id}' is not 8 hex digits`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) out[i] = Number.parseInt(id.slice(6 - 2 * i, 8 - 2 * i), 16);
  return out;
}

export function identifierOf(bytes: Uint8Array, offset = 0): string {
  let s = '';
  for (let i = 3; i >= 0; i--) s += bytes[offset + i]!.toString(16).padStart(2, '0');
  return s;
}

export type DecodeResult = { ok: true; value: number } | { ok: false; reason: 'length' | 'not-bcd'; detail: string };

/** The engineering value of a data item from its data bytes (33H already taken off). Never throws. */
export function decodeDataItem(item: DataItem, data: Uint8Array): DecodeResult {
  if (data.length !== item.bytes) {
    return { ok: false, reason: 'length', detail: `${item.id} (${item.format}) has ${item.bytes} data bytes, the answer ${data.length}` };
  }
  let digits = '';
  let negative = false;
  for (let i = item.bytes - 1; i >= 0; i--) {
    let b = data[i]!;
    if (i === item.bytes - 1 && item.signed) {
      negative = (b & 0x80) !== 0;
      b &= 0x7f;
    }
    if ((b >> 4) > 9 || (b & 0x0f) > 9) {
      return { ok: false, reason: 'not-bcd', detail: `${item.id}: byte ${i} is ${hex(data[i]!)}, not two BCD digits` };
    }
    digits += b.toString(16).padStart(2, '0');
  }
  // An exact integer divided by a power of ten: the nearest double to the decimal the meter sent.
  const value = (Number(digits) * item.scale) / 10 ** item.decimals;
  return { ok: true, value: negative && value !== 0 ? -value : value };
}

/** The data bytes of a value (what a meter sends before 33H is added); out-of-range values are clamped. */
export function encodeDataItem(item: DataItem, value: number): Uint8Array {
  const digits = item.bytes * 2;
  let units = Math.round((Math.abs(value) / item.scale) * 10 ** item.decimals);
  const max = item.signed ? 8 * 10 ** (digits - 1) - 1 : 10 ** digits - 1;
  units = Math.min(units, max);
  const text = units.toString().padStart(digits, '0');
  const out = new Uint8Array(item.bytes);
  for (let i = 0; i < item.bytes; i++) out[i] = Number.parseInt(text.slice(digits - 2 * i - 2, digits - 2 * i), 16);
  if (item.signed && value < 0 && units > 0) out[item.bytes - 1]! |= 0x80;
  return out;
}

/** Bits of the error byte of an abnormal answer (错误信息字 ERR). */
const ERROR_BITS: readonly string[] = [
  'other error',
  'no requested data',
  'wrong password or not authorised',
  'baud rate cannot be changed',
  'too many annual time zones',
  'too many daily time periods',
  'too many tariffs',
];

/** The reasons an abnormal answer's error byte gives, in words. */
export function errorReasons(code: number): string[] {
  const reasons = ERROR_BITS.filter((_, bit) => (code & (1 << bit)) !== 0);
  return reasons.length > 0 ? reasons : [`error byte ${hex(code)}`];
}

/** A master's read of one data item (C = 11H, L = 4). */
export function readRequest(address: string, id: string): Frame {
  return { address, control: CONTROL.read, data: identifierBytes(id) };
}

/** A meter's normal answer: the identifier, then the data. */
export function readReply(address: string, id: string, data: Uint8Array): Frame {
  const out = new Uint8Array(4 + data.length);
  out.set(identifierBytes(id));
  out.set(data, 4);
  return { address, control: CONTROL.readReply, data: out };
}

/** A meter's abnormal answer with its error byte. */
export function errorReply(address: string, code: number): Frame {
  return { address, control: CONTROL.readError, data: Uint8Array.of(code) };
}

/** What a meter's frame says about a read. */
export type ReadAnswer =
  | { kind: 'data'; id: string; data: Uint8Array; follows: boolean }
  | { kind: 'error'; code: number }
  | { kind: 'other' };

/** Reads a frame from a meter as the answer to a read (anything else is `other`). */
export function readAnswer(frame: Frame): ReadAnswer {
  if ((frame.control & 0x1f) !== (CONTROL.read & 0x1f) || (frame.control & FROM_METER) === 0) return { kind: 'other' };
  if ((frame.control & ABNORMAL) !== 0) return frame.data.length >= 1 ? { kind: 'error', code: frame.data[0]! } : { kind: 'other' };
  if (frame.data.length < 4) return { kind: 'other' };
  return { kind: 'data', id: identifierOf(frame.data), data: frame.data.slice(4), follows: frame.control === CONTROL.readReplyFollows };
}
