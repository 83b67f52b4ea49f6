import { registerCount, type DeviceProfile, type FunctionCode, type RegisterPoint } from '../../common/profiles.ts';
import { decodeValue, encodeValue } from '../../common/register-codec.ts';
import { MODBUS_EXCEPTION, ModbusException } from './modbus-exception.ts';

/** How a simulated device misbehaves: answer every request with exception 4, or never answer. */
export type BankFault = 'none' | 'exception' | 'timeout';

export interface RegisterBankOptions {
  /**
   * Unmapped registers between two mapped points of the same area read as 0 (true, the default)
   * or raise Illegal Data Address (false). Addresses outside the mapped span always raise it.
   * Meters commonly answer block reads spanning unused registers inside their map but refuse
   * addresses past its end; some strict devices refuse any unmapped register (fillGaps: false).
   */
  fillGaps?: boolean;
  fault?: BankFault;
  /** Delay before each answer, to simulate a slow device or a slow serial line. */
  responseDelayMs?: number;
  /** Initial engineering values by metric; unset metrics start at 0. */
  initial?: Record<string, number>;
}

/** What the slave does with one request. */
export type BankAnswer =
  | { kind: 'values'; values: number[] }
  | { kind: 'exception'; code: number }
  | { kind: 'silent' };

interface Area {
  words: Map<number, number>;
  mapped: Set<number>;
  first: number;
  last: number;
}

// Modbus spec quantity limits: FC1/2 at most 2000 bits, FC3/4 at most 125 registers per request.
const MAX_QUANTITY: Record<FunctionCode, number> = { 1: 2000, 2: 2000, 3: 125, 4: 125 };

/**
 * The register memory of one simulated Modbus device, laid out by its DeviceProfile. Values are
 * set in engineering units and stored exactly as the gateway will read them.
 */
export class RegisterBank {
  fault: BankFault;
  fillGaps: boolean;
  responseDelayMs: number;
  private readonly areas = new Map<FunctionCode, Area>();
  private readonly points = new Map<string, RegisterPoint>();
  private readonly counts: Record<FunctionCode, number> = { 1: 0, 2: 0, 3: 0, 4: 0 };

  constructor(
    readonly profile: DeviceProfile,
    options: RegisterBankOptions = {},
  ) {
    this.fault = options.fault ?? 'none';
    this.fillGaps = options.fillGaps ?? true;
    this.responseDelayMs = options.responseDelayMs ?? 0;
    for (const p of profile.points) {
      this.points.set(p.metric, p);
      let area = this.areas.get(p.fc);
      if (!area) {
        area = { words: new Map(), mapped: new Set(), first: Infinity, last: -Infinity };
        this.areas.set(p.fc, area);
      }
      const n = registerCount(p.type);
      for (let i = 0; i < n; i++) area.mapped.add(p.address + i);
      area.first = Math.min(area.first, p.address);
      area.last = Math.max(area.last, p.address + n - 1);
      this.set(p.metric, options.initial?.[p.metric] ?? 0);
    }
  }

  /** Stores an engineering value in the registers (or bit) of `metric`. */
  set(metric: string, value: number): void {
    const p = this.point(metric);
    const area = this.areas.get(p.fc)!;
    encodeValue(value, p).forEach((w, i) => area.words.set(p.address + i, w));
  }

  setMany(values: Record<string, number>): void {
    for (const [metric, value] of Object.entries(values)) this.set(metric, value);
  }

  /** The engineering value of `metric` as a reader would decode it. */
  get(metric: string): number {
    const p = this.point(metric);
    const area = this.areas.get(p.fc)!;
    const words: number[] = [];
    for (let i = 0; i < registerCount(p.type); i++) words.push(area.words.get(p.address + i) ?? 0);
    return decodeValue(words, p);
  }

  hasMetric(metric: string): boolean {
    return this.points.has(metric);
  }

  /**
   * Register words (FC3/4) or bits as 0/1 (FC1/2). Throws ModbusException 2 (Illegal Data
   * Address) when any address of the range is not served, and 3 for a quantity out of range.
   */
  read(fc: FunctionCode, address: number, count: number): number[] {
    if (!Number.isInteger(count) || count < 1 || count > MAX_QUANTITY[fc]) {
      throw new ModbusException(MODBUS_EXCEPTION.illegalDataValue, `FC${fc}: quantity ${count} out of range 1..${MAX_QUANTITY[fc]}`);
    }
    const area = this.areas.get(fc);
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const served = area !== undefined && (area.mapped.has(a) || (this.fillGaps && a >= area.first && a <= area.last));
      if (!served || a > 0xffff) {
        throw new ModbusException(MODBUS_EXCEPTION.illegalDataAddress, `FC${fc}: address ${a} is not mapped on ${this.profile.name}`);
      }
      out.push(area.words.get(a) ?? 0);
    }
    return out;
  }

  /** Counts the request and answers it the way the device would, faults included. */
  respond(fc: FunctionCode, address: number, count: number): BankAnswer {
    this.counts[fc]++;
    if (this.fault === 'timeout') return { kind: 'silent' };
    if (this.fault === 'exception') return { kind: 'exception', code: MODBUS_EXCEPTION.slaveDeviceFailure };
    try {
      return { kind: 'values', values: this.read(fc, address, count) };
    } catch (err) {
      if (err instanceof ModbusException) return { kind: 'exception', code: err.code };
      throw err;
    }
  }

  /** Requests received, all function codes or one. */
  requestCount(fc?: FunctionCode): number {
    if (fc !== undefined) return this.counts[fc];
    return this.counts[1] + this.counts[2] + this.counts[3] + this.counts[4];
  }

  resetCounts(): void {
    this.counts[1] = this.counts[2] = this.counts[3] = this.counts[4] = 0;
  }

  private point(metric: string): RegisterPoint {
    const p = this.points.get(metric);
    if (!p) throw new Error(`${this.profile.name} has no metric '${metric}'`);
    return p;
  }
}
