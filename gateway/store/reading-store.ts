import type { DeviceEvent } from '../../common/reading.ts';
import type { ReadingHistory } from '../../common/readings/reading-history.ts';
import type { StoreSelection, StoredReading } from './store-selection.ts';

/**
 * The time-series store of readings, write side (docs/gateway.md#reading-store): InfluxDB, or
 * embedded SQLite when INFLUX_URL is unset. It answers the queries of the read-only history
 * (common/readings/) and adds what only the gateway does: writing, rolling up, retention. Writes
 * are idempotent: a reading with the series (building, device, metric) and timestamp of a stored
 * one replaces it, so replays never duplicate.
 */
export interface ReadingStore extends ReadingHistory {
  /** Creates the database, schema, rollups and retention policies if missing, and migrates older ones. */
  init(): Promise<void>;
  /** Stores every reading and event given (report by exception happens before: gateway/reporting/). */
  write(readings: readonly StoredReading[], events?: readonly DeviceEvent[]): Promise<void>;
  /**
   * Writes outbox records as encoded by gateway/outbox/batch-codec.ts: the gateway's delivery path.
   * `selections[i]` says which readings of `payloads[i]` to store (all when absent).
   */
  writeOutboxBatches(payloads: readonly Buffer[], selections?: readonly (StoreSelection | undefined)[]): Promise<void>;
  /** Resolves once what init() started rolling up in the background (an earlier release's readings) is done. */
  rolledUp(): Promise<void>;
  /** Bytes the store takes on disk. */
  diskBytes(): Promise<number>;
}
