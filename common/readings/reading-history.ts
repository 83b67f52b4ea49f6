import type { DeviceEvent, Reading } from '../reading.ts';
import { RESOLUTIONS, ROLLUP_MS, type Resolution } from './resolution.ts';

/** `delta`: the increase of a counter (a meter total) over the window. */
export type Aggregate = 'mean' | 'min' | 'max' | 'last' | 'first' | 'sum' | 'count' | 'delta';

export const AGGREGATES: readonly Aggregate[] = ['mean', 'min', 'max', 'last', 'first', 'sum', 'count', 'delta'];

export interface RangeQuery {
  device: string;
  /** One metric, or every metric of the device. */
  metric?: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** Aggregation window in ms; without it, raw points. */
  every?: number;
  /** Default `mean`. */
  aggregate?: Aggregate;
  /** What to read: raw readings (default), or a rollup, whose window must divide `every`. */
  resolution?: Resolution;
}

/** One point of a range answer; with `every`, `ts` is the start of the window. */
export interface SeriesPoint {
  metric: string;
  ts: number;
  value: number | null;
}

export interface LatestFilter {
  building?: string;
  device?: string;
}

export interface EventQuery extends LatestFilter {
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
}

export type ReadingBackend = 'influxdb' | 'sqlite';

/**
 * The read-only face of the reading store (docs/gateway.md#reading-store): what the server and
 * the `npm run readings` tool ask of it. Both back ends give the same answers.
 */
export interface ReadingHistory {
  readonly backend: ReadingBackend;
  /** Latest reading of every series matching the filter. */
  latest(filter?: LatestFilter): Promise<Reading[]>;
  range(query: RangeQuery): Promise<SeriesPoint[]>;
  /** Number of stored readings matching the filter. */
  count(filter?: LatestFilter): Promise<number>;
  /** Events with from ≤ ts < to, oldest first. */
  events(query: EventQuery): Promise<DeviceEvent[]>;
  close(): Promise<void>;
}

/** The window of an aggregated range query in whole ms, its aggregate and resolution; throws naming what is wrong. */
export function checkRangeQuery(q: RangeQuery): { every: number; aggregate: Aggregate; resolution: Resolution } | undefined {
  const resolution = q.resolution ?? 'raw';
  if (!RESOLUTIONS.includes(resolution)) throw new Error(`range: unknown resolution ${JSON.stringify(resolution)} (one of ${RESOLUTIONS.join(', ')})`);
  if (q.every === undefined) {
    if (resolution !== 'raw') throw new Error(`range: the ${resolution} rollup answers windows: give every (a multiple of ${ROLLUP_MS[resolution]} ms)`);
    return undefined;
  }
  const every = Math.trunc(q.every);
  if (!(every > 0)) throw new Error(`range: every must be a positive number of ms, got ${q.every}`);
  const aggregate = q.aggregate ?? 'mean';
  if (!AGGREGATES.includes(aggregate)) throw new Error(`range: unknown aggregate ${JSON.stringify(aggregate)} (one of ${AGGREGATES.join(', ')})`);
  if (resolution !== 'raw' && every % ROLLUP_MS[resolution] !== 0) throw new Error(`range: every ${every} ms is not a multiple of the ${resolution} rollup's window (${ROLLUP_MS[resolution]} ms)`);
  return { every, aggregate, resolution };
}
