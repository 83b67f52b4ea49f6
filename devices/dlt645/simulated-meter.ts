import { DATA_ITEMS, dataItem, encodeDataItem, errorReply, identifierOf, readReply, type DataItem } from '../../common/dlt645/data-items.ts';
import { CONTROL, type Frame } from '../../common/dlt645/frame.ts';

/**
 * How a simulated meter misbehaves: never answer, answer with a checksum that does not match, or
 * answer with another meter's address (a second meter set to the same address, a wiring mix-up).
 */
export type MeterFault = 'none' | 'silent' | 'bad-checksum' | 'wrong-address';

export interface SimulatedMeterOptions {
  /** Engineering values by metric (`energy_kwh`, `voltage_v`, `current_a`, `power_w`). */
  initial?: Record<string, number>;
  /** Data items the meter has (DI3..DI0); others get an abnormal answer, no requested data. Default: every item of DATA_ITEMS. */
  serves?: readonly string[];
  fault?: MeterFault;
  /** Delay before each answer, like a meter's turnaround on a slow line. */
  responseDelayMs?: number;
}

/** Error bytes of the abnormal answers it sends (bits of 错误信息字). */
const OTHER_ERROR = 0x01;
const NO_REQUESTED_DATA = 0x02;

/**
 * One DL/T 645-2007 meter on a simulated line: it holds engineering values and answers a read of
 * a data item with them, encoded by the same table (common/dlt645/data-items.ts) the gateway
 * decodes with.
 */
export class SimulatedMeter {
  fault: MeterFault;
  responseDelayMs: number;
  /** Read requests addressed to this meter since start or resetCounts(). */
  requests = 0;
  private readonly values = new Map<string, number>();
  private readonly items: DataItem[];

  constructor(
    readonly address: string,
    options: SimulatedMeterOptions = {},
  ) {
    this.fault = options.fault ?? 'none';
    this.responseDelayMs = options.responseDelayMs ?? 0;
    this.items = (options.serves ?? DATA_ITEMS.map((d) => d.id)).map((id) => {
      const item = dataItem(id);
      if (!item) throw new Error(`meter ${address}: unknown data item ${id}`);
      return item;
    });
    for (const [metric, value] of Object.entries(options.initial ?? {})) this.set(metric, value);
  }

  set(metric: string, value: number): void {
    this.values.set(metric, value);
  }

  /** The value a reader decodes, rounded to the item's format (what the meter shows). */
  get(id: string): number | undefined {
    const item = dataItem(id);
    const value = item ? this.values.get(item.metric) : undefined;
    if (!item || value === undefined) return undefined;
    const units = Math.round((value / item.scale) * 10 ** item.decimals);
    return (units * item.scale) / 10 ** item.decimals;
  }

  resetCounts(): void {
    this.requests = 0;
  }

  /** The meter's answer to a frame addressed to it; undefined: it stays silent (a command it does not know). */
  answer(request: Frame): Frame | undefined {
    if (request.control !== CONTROL.read) return undefined;
    this.requests++;
    if (request.data.length < 4) return errorReply(this.address, OTHER_ERROR);
    const id = identifierOf(request.data);
    const item = this.items.find((d) => d.id === id);
    const value = item ? this.values.get(item.metric) : undefined;
    if (!item || value === undefined) return errorReply(this.address, NO_REQUESTED_DATA);
    return readReply(this.address, id, encodeDataItem(item, value));
  }
}
