import { mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import type { EventQuery, LatestFilter, RangeQuery, SeriesPoint } from '../../common/readings/reading-history.ts';
import { SQLITE_SCHEMA, sqliteCount, sqliteEvents, sqliteLatest, sqliteRange } from '../../common/readings/sqlite-queries.ts';
import { decodeBatch } from '../outbox/batch-codec.ts';
import type { ReadingStore } from './reading-store.ts';
import { SqliteRollups } from './sqlite-rollups.ts';
import type { StoreSelection, StoredReading } from './store-selection.ts';
import { StoreWriteError } from './store-write-error.ts';

export interface SqliteReadingStoreOptions {
  /** `DATA_DIR/readings.db`, or `:memory:`. */
  file: string;
  /** Raw readings and events older than this are deleted; unset keeps them forever. */
  retentionMs?: number;
  /** Rollups older than this are deleted; unset keeps them forever. */
  rollupRetentionMs?: { '1m'?: number | undefined; '1h'?: number | undefined };
  logger?: Logger;
  /** How often retention runs; default a tenth of the raw retention, between 1 min and 1 h. */
  pruneIntervalMs?: number;
  /** Wall clock for the retention: default Date.now. */
  now?: () => number;
}

interface SeriesRow {
  id: number;
  kind: string;
  unit: string | null;
  engUnit: string | null;
}

/**
 * The embedded reading store used when INFLUX_URL is unset, the write side: one SQLite file in WAL
 * mode (layout in common/readings/sqlite-queries.ts), written, rolled up (sqlite-rollups.ts) and
 * pruned to the retentions here. Queries are those of the read-only history
 * (common/readings/sqlite-history.ts).
 */
export class SqliteReadingStore implements ReadingStore {
  readonly backend = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly seriesIds = new Map<string, SeriesRow>();
  private readonly retentionMs: number | undefined;
  private readonly rollupRetentionMs: { '1m'?: number | undefined; '1h'?: number | undefined };
  private readonly pruneIntervalMs: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private pruneTimer: NodeJS.Timeout | undefined;
  private pruning = false;
  private closed = false;
  private statements!: ReturnType<SqliteReadingStore['prepare']>;
  private rollups!: SqliteRollups;
  private backfill: Promise<void> | undefined;

  constructor(opts: SqliteReadingStoreOptions) {
    if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
    this.file = opts.file;
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.retentionMs = opts.retentionMs;
    this.rollupRetentionMs = opts.rollupRetentionMs ?? {};
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    const retentions = [opts.retentionMs, opts.rollupRetentionMs?.['1m'], opts.rollupRetentionMs?.['1h']].filter((r): r is number => r !== undefined);
    const r = retentions.length ? Math.min(...retentions) : undefined;
    this.pruneIntervalMs = opts.pruneIntervalMs ?? (r ? Math.min(3_600_000, Math.max(60_000, Math.floor(r / 10))) : 0);
  }

  async init(): Promise<void> {
    if (this.statements) return;
    this.migrate();
    this.statements = this.prepare();
    this.rollups = new SqliteRollups(this.db);
    this.backfill = this.backfillRollups().catch((err: unknown) => this.logger?.error({ err: (err as Error).message }, 'rolling up earlier readings failed; retention waits'));
    if (this.pruneIntervalMs > 0) {
      void this.prune();
      this.pruneTimer = setInterval(() => void this.prune(), this.pruneIntervalMs);
      this.pruneTimer.unref();
    }
  }

  /** Resolves once the readings of an earlier release's file are rolled up (at once for a new file). */
  async rolledUp(): Promise<void> {
    await this.backfill;
  }

  /** Creates the tables, and adds what a file of an earlier release lacks (the `delta` column). */
  private migrate(): void {
    this.db.exec(SQLITE_SCHEMA);
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(readings)').all();
    if (!columns.some((c) => c.name === 'delta')) this.db.exec('ALTER TABLE readings ADD COLUMN delta REAL');
  }

  private prepare() {
    const db = this.db;
    return {
      upsertSeries: db.prepare<[string, string, string, string, string | null, string | null], { id: number }>(
        `INSERT INTO series (building, device, metric, kind, unit, eng_unit) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (building, device, metric) DO UPDATE SET kind = excluded.kind, unit = excluded.unit, eng_unit = excluded.eng_unit
         RETURNING id`,
      ),
      // A reading written again without its delta (a replay) keeps the delta it was stored with.
      insertReading: db.prepare<[number, number, number | null, string, number | null]>(
        `INSERT INTO readings (series_id, ts, value, quality, delta) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value, quality = excluded.quality, delta = COALESCE(excluded.delta, readings.delta)`,
      ),
      insertEvent: db.prepare<[string, string, string, number, string, string | null, string]>(
        'INSERT OR REPLACE INTO events (building, device, event, ts, kind, unit, attrs) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      seriesIds: db.prepare<[], { id: number }>('SELECT id FROM series'),
      seriesSpan: db.prepare<[number], { first: number | null; last: number | null }>('SELECT MIN(ts) AS first, MAX(ts) AS last FROM readings WHERE series_id = ?'),
      pruneSeries: db.prepare<[number, number]>('DELETE FROM readings WHERE series_id = ? AND ts < ?'),
      pruneEvents: db.prepare<[number]>('DELETE FROM events WHERE ts < ?'),
      pruneRollup1m: db.prepare<[number, number]>('DELETE FROM rollup_1m WHERE series_id = ? AND ts < ?'),
      pruneRollup1h: db.prepare<[number, number]>('DELETE FROM rollup_1h WHERE series_id = ? AND ts < ?'),
      meta: db.prepare<[string], { value: string }>('SELECT value FROM store_meta WHERE key = ?'),
      setMeta: db.prepare<[string, string]>('INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)'),
    };
  }

  private get ready() {
    if (this.closed) throw new Error('reading store is closed');
    if (!this.statements) throw new Error('reading store: call init() first');
    return this.statements;
  }

  async writeOutboxBatches(payloads: readonly Buffer[], selections?: readonly (StoreSelection | undefined)[]): Promise<void> {
    const readings: StoredReading[] = [];
    const events: DeviceEvent[] = [];
    payloads.forEach((p, i) => {
      const b = decodeBatch(p);
      const selection = selections?.[i];
      b.readings.forEach((r, k) => {
        if (selection && selection.keep[k] === 0) return;
        const delta = selection?.deltas.get(k);
        readings.push(delta === undefined ? r : { ...r, delta });
      });
      for (const e of b.events) events.push(e);
    });
    await this.write(readings, events);
  }

  async write(readings: readonly StoredReading[], events: readonly DeviceEvent[] = []): Promise<void> {
    const st = this.ready;
    const cutoff = this.retentionMs === undefined ? Number.NEGATIVE_INFINITY : this.now() - this.retentionMs;
    const writeBatch = this.db.transaction(() => {
      const touched = new Map<number, { from: number; to: number }>();
      for (const r of readings) {
        const id = this.seriesId(r);
        const value = r.value !== null && Number.isFinite(r.value) ? r.value : null;
        const ts = Math.trunc(r.ts);
        const delta = r.delta !== undefined && Number.isFinite(r.delta) ? r.delta : null;
        st.insertReading.run(id, ts, value, r.quality, delta);
        const span = touched.get(id);
        if (!span) touched.set(id, { from: ts, to: ts });
        else {
          if (ts < span.from) span.from = ts;
          if (ts > span.to) span.to = ts;
        }
      }
      for (const [id, span] of touched) this.rollups.refresh(id, span.from, span.to, cutoff);
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

  /**
   * Rolls up the raw readings a file of an earlier release holds, one series and one day at a
   * time, before retention may delete any of them. Runs once per file (`store_meta`).
   */
  private async backfillRollups(): Promise<void> {
    const st = this.ready;
    if (st.meta.get('rollups')?.value === 'complete') return;
    const day = 86_400_000;
    let series = 0;
    for (const { id } of st.seriesIds.all()) {
      const { first, last } = st.seriesSpan.get(id) ?? { first: null, last: null };
      if (first === null || last === null) continue;
      series++;
      for (let from = first - (first % day); from <= last; from += day) {
        if (this.closed) return;
        this.db.transaction(() => this.rollups.refresh(id, from, Math.min(last, from + day - 1), Number.NEGATIVE_INFINITY))();
        await new Promise((r) => setImmediate(r));
      }
    }
    st.setMeta.run('rollups', 'complete');
    if (series > 0) this.logger?.info({ series }, 'rolled up the readings stored before rollups existed');
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

  /** Bytes of the database file and its write-ahead log on disk. */
  async diskBytes(): Promise<number> {
    if (this.file === ':memory:') return 0;
    let total = 0;
    for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) {
      total += await stat(f).then(
        (s) => s.size,
        () => 0,
      );
    }
    return total;
  }

  /**
   * Deletes raw readings and events older than their retention, and rollups older than theirs, one
   * series at a time so no statement runs long. Nothing is deleted before the rollups hold it.
   */
  async prune(now = this.now()): Promise<number> {
    if (this.pruning || this.closed || !this.statements) return 0;
    this.pruning = true;
    let deleted = 0;
    try {
      await this.backfill;
      const st = this.ready;
      const rolledUp = st.meta.get('rollups')?.value === 'complete';
      const raw = this.retentionMs === undefined || !rolledUp ? undefined : now - this.retentionMs;
      const m1 = this.rollupRetentionMs['1m'] === undefined ? undefined : now - this.rollupRetentionMs['1m'];
      const h1 = this.rollupRetentionMs['1h'] === undefined ? undefined : now - this.rollupRetentionMs['1h'];
      for (const { id } of st.seriesIds.all()) {
        if (this.closed) break;
        if (raw !== undefined) deleted += st.pruneSeries.run(id, raw).changes;
        if (m1 !== undefined) deleted += st.pruneRollup1m.run(id, m1).changes;
        if (h1 !== undefined) deleted += st.pruneRollup1h.run(id, h1).changes;
        await new Promise((r) => setImmediate(r));
      }
      if (!this.closed && raw !== undefined) deleted += st.pruneEvents.run(raw).changes;
      if (deleted) this.logger?.info({ deleted, cutoff: raw }, 'pruned readings and rollups past retention');
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
    await this.backfill?.catch(() => undefined);
    this.db.close();
  }
}
