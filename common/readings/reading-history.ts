import type { DeviceEvent, Reading } from '../reading.ts';

export type Aggregate = 'mean' | 'min' | 'max' | 'last' | 'first' | 'sum' | 'count';

export const AGGREGATES: readonly Aggregate[] = ['mean', 'min', 'max', 'last', 'first', 'sum', 'count'];

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

/** The window of an aggregated range query in whole ms and its aggregate; throws naming what is wrong. */
export function checkRangeQuery(q: RangeQuery): { every: number; aggregate: Aggregate } | undefined {
  if (q.every === undefined) return undefined;
  const every = Math.trunc(q.every);
  if (!(every > 0)) throw new Error(`range: every must be a positive number of ms, got ${q.every}`);
  const aggregate = q.aggregate ?? 'mean';
  if (!AGGREGATES.includes(aggregate)) throw new Error(`range: unknown aggregate ${JSON.stringify(aggregate)} (one of ${AGGREGATES.join(', ')})`);
  return { every, aggregate };
}
