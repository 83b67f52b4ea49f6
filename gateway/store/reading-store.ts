import type { DeviceEvent, Reading } from '../../common/reading.ts';

export type Aggregate = 'mean' | 'min' | 'max' | 'last' | 'first' | 'sum' | 'count';

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

/**
 * The time-series store of readings (docs/design.md): InfluxDB, or embedded SQLite when
 * INFLUX_URL is unset. Writes are idempotent: a reading with the series (building, device,
 * metric) and timestamp of a stored one replaces it, so replays never duplicate.
 */
export interface ReadingStore {
  readonly backend: 'influxdb' | 'sqlite';
  /** Creates the database, schema and retention policy if missing. */
  init(): Promise<void>;
  write(readings: readonly Reading[], events?: readonly DeviceEvent[]): Promise<void>;
  /** Writes outbox records as encoded by gateway/outbox/batch-codec.ts: the gateway's delivery path. */
  writeOutboxBatches(payloads: readonly Buffer[]): Promise<void>;
  /** Latest reading of every series matching the filter. */
  latest(filter?: LatestFilter): Promise<Reading[]>;
  range(query: RangeQuery): Promise<SeriesPoint[]>;
  /** Number of stored readings matching the filter, for checks and tests. */
  count(filter?: LatestFilter): Promise<number>;
  events(filter: LatestFilter & { from: number; to: number }): Promise<DeviceEvent[]>;
  close(): Promise<void>;
}
