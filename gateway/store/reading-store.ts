import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { ReadingHistory } from '../../common/readings/reading-history.ts';

/**
 * The time-series store of readings, write side (docs/gateway.md#reading-store): InfluxDB, or
 * embedded SQLite when INFLUX_URL is unset. It answers the queries of the read-only history
 * (common/readings/) and adds what only the gateway does. Writes are idempotent: a reading with
 * the series (building, device, metric) and timestamp of a stored one replaces it, so replays
 * never duplicate.
 */
export interface ReadingStore extends ReadingHistory {
  /** Creates the database, schema and retention policy if missing. */
  init(): Promise<void>;
  write(readings: readonly Reading[], events?: readonly DeviceEvent[]): Promise<void>;
  /** Writes outbox records as encoded by gateway/outbox/batch-codec.ts: the gateway's delivery path. */
  writeOutboxBatches(payloads: readonly Buffer[]): Promise<void>;
}
