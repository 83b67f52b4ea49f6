import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { EventQuery, LatestFilter, RangeQuery, SeriesPoint } from '../../common/readings/reading-history.ts';
import { SQLITE_SCHEMA, sqliteCount, sqliteEvents, sqliteLatest, sqliteRange } from '../../common/readings/sqlite-queries.ts';
import { decodeBatch } from '../outbox/batch-codec.ts';
import type { ReadingStore } from './reading-store.ts';
import { StoreWriteError } from './store-write-error.ts';

export interface SqliteReadingStoreOptions {
  /** `DATA_DIR/readings.db`, or `:memory:`. */
  file: string;
  /** Readings and events older than this are deleted; unset keeps them forever. */
  retentionMs?: number;
  logger?: Logger;
  /** How often retention runs; default a tenth of the retention, between 1 min and 1 h. */
  pruneIntervalMs?: number;
}

interface SeriesRow {
  id: number;
  kind: string;
  unit: string | null;
  engUnit: string | null;
}

/**
 * The embedded reading store used when INFLUX_URL is unset, the write side: one SQLite file in WAL
 * mode (layout in common/readings/sqlite-queries.ts), written and pruned to the retention here.
 * Queries are those of the read-only history (common/readings/sqlite-history.ts).
 */
export class SqliteReadingStore implements ReadingStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly seriesIds = new Map<string, SeriesRow>();
  private readonly retentionMs: number | undefined;
  private readonly pruneIntervalMs: number;
  private readonly logger: Logger | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning = false;
  private closed = false;
  private statements!: ReturnType<SqliteReadingStore['prepare']>;

  constructor(opts: SqliteReadingStoreOptions) {
    if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.retentionMs = opts.retentionMs;
    this.logger = opts.logger;
    const r = opts.retentionMs;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? (r ? Math.min(3_600_000, Math.max(60_000, Math.floor(r / 10))) : 0);
  }

  async init(): Promise<void> {
    if (this.statements) return;
    this.db.exec(SQLITE_SCHEMA);
    this.statements = this.prepare();
    if (this.retentionMs !== undefined) {
      await this.prune();
      this.pruneTimer = setInterval(() => void this.prune(), this.pruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      upsertSeries: db.prepare<[string, string, string, string, string | null, string | null], { id: number }>(
        `INSERT INTO series (building, device, metric, kind, unit, eng_unit) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (building, device, metric) DO UPDATE SET kind = excluded.kind, unit = excluded.unit, eng_unit = excluded.eng_unit
         RETURNING id`,
      ),
      insertReading: db.prepare<[number, number, number | null, string]>('INSERT OR REPLACE INTO readings (series_id, ts, value, quality) VALUES (?, ?, ?, ?)'),
      insertEvent: db.prepare<[string, string, string, number, string, string | null, string]>(
        'INSERT OR REPLACE INTO events (building, device, event, ts, kind, unit, attrs) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      seriesIds: db.prepare<[], { id: number }>('SELECT id FROM series'),
      pruneSeries: db.prepare<[number, number]>('DELETE FROM readings WHERE series_id = ? AND ts < ?'),
      pruneEvents: db.prepare<[number]>('DELETE FROM events WHERE ts < ?'),
    };
  }

  private get ready() {
    if (this.closed) throw new Error('reading store is closed');
    if (!this.statements) throw new Error('reading store: call init() first');
    return this.statements;
  }

  async writeOutboxBatches(payloads: readonly Buffer[]): Promise<void> {
    const readings: Reading[] = [];
    const events: DeviceEvent[] = [];
    for (const p of payloads) {
      const b = decodeBatch(p);
      for (const r of b.readings) readings.push(r);
      for (const e of b.events) events.push(e);
    }
    await this.write(readings, events);
  }

  async write(readings: readonly Reading[], events: readonly DeviceEvent[] = []): Promise<void> {
    const st = this.ready;
    const writeBatch = this.db.transaction(() => {
      for (const r of readings) {
        const id = this.seriesId(r);
        const value = r.value !== null && Number.isFinite(r.value) ? r.value : null;
        st.insertReading.run(id, Math.trunc(r.ts), value, r.quality);
      }
      for (const e of events) {
        st.insertEvent.run(e.building, e.device, e.event, Math.trunc(e.ts), e.kind, e.unit || null, JSON.stringify(e.attrs ?? {}));
      }
    });
    try {
      writeBatch();
    } catch (err) {
      // A rolled-back transaction may have created series rows that no longer exist.
      this.seriesIds.clear();
      throw new StoreWriteError(`SQLite write of ${readings.length + events.length} points failed: ${(err as Error).message}`, true);
    }
  }

  private seriesId(r: Reading): number {
    const key = r.building + '\u0000' + r.device + '\u0000' + r.metric;
    const unit = r.unit || null;
    const engUnit = r.engUnit || null;
    const cached = this.seriesIds.get(key);
    if (cached && cached.kind === r.kind && cached.unit === unit && cached.engUnit === engUnit) return cached.id;
    const row = this.statements.upsertSeries.get(r.building, r.device, r.metric, r.kind, unit, engUnit);
    if (!row) throw new Error(`series ${key} could not be stored`);
    this.seriesIds.set(key, { id: row.id, kind: r.kind, unit, engUnit });
    return row.id;
  }

  async latest(filter: LatestFilter = {}): Promise<Reading[]> {
    this.ready;
    return sqliteLatest(this.db, filter);
  }

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    this.ready;
    return sqliteRange(this.db, q);
  }

  async count(filter: LatestFilter = {}): Promise<number> {
    this.ready;
    return sqliteCount(this.db, filter);
  }

  async events(q: EventQuery): Promise<DeviceEvent[]> {
    this.ready;
    return sqliteEvents(this.db, q);
  }

  /** Deletes what is older than the retention, one series at a time so no statement runs long. */
  async prune(now = Date.now()): Promise<number> {
    if (this.retentionMs === undefined || this.pruning || this.closed) return 0;
    this.pruning = true;
    const cutoff = now - this.retentionMs;
    let deleted = 0;
    try {
      const st = this.ready;
      for (const { id } of st.seriesIds.all()) {
        if (this.closed) break;
        deleted += st.pruneSeries.run(id, cutoff).changes;
        await new Promise((r) => setImmediate(r));
      }
      if (!this.closed) deleted += st.pruneEvents.run(cutoff).changes;
      if (deleted) this.logger?.info({ deleted, cutoff }, 'pruned readings past retention');
    } catch (err) {
      this.logger?.error({ err }, 'retention pruning failed');
    } finally {
      this.pruning = false;
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.db.close();
  }
}
