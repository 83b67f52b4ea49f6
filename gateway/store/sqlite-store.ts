import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, DeviceKind, Quality, Reading } from '../../common/reading.ts';
import { decodeBatch } from '../outbox/batch-codec.ts';
import { AGGREGATES } from './influxql.ts';
import { StoreWriteError } from './store-write-error.ts';
import type { LatestFilter, RangeQuery, ReadingStore, SeriesPoint } from './reading-store.ts';

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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  building TEXT NOT NULL,
  device TEXT NOT NULL,
  metric TEXT NOT NULL,
  kind TEXT NOT NULL,
  unit TEXT,
  eng_unit TEXT,
  UNIQUE (building, device, metric)
);
CREATE INDEX IF NOT EXISTS series_device ON series (device, metric);
CREATE TABLE IF NOT EXISTS readings (
  series_id INTEGER NOT NULL REFERENCES series (id),
  ts INTEGER NOT NULL,
  value REAL,
  quality TEXT NOT NULL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  building TEXT NOT NULL,
  device TEXT NOT NULL,
  event TEXT NOT NULL,
  ts INTEGER NOT NULL,
  kind TEXT NOT NULL,
  unit TEXT,
  attrs TEXT NOT NULL,
  PRIMARY KEY (building, device, event, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
`;

/**
 * The embedded reading store used when INFLUX_URL is unset: one SQLite file in WAL mode. A series
 * is (building, device, metric); a reading is (series, ts), so a replayed reading replaces the
 * stored one. Queries answer like the InfluxDB store: aggregation windows aligned to the epoch,
 * aggregates over readings that have a value, windows without one left out.
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
    this.db.exec(SCHEMA);
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
    const { where, params } = seriesFilter(filter);
    const rows = this.db
      .prepare<unknown[], ReadingRow>(
        `SELECT s.building, s.device, s.kind, s.unit, s.metric, s.eng_unit AS engUnit, r.ts, r.value, r.quality
         FROM series s JOIN readings r ON r.series_id = s.id AND r.ts = (SELECT MAX(ts) FROM readings WHERE series_id = s.id)
         ${where} ORDER BY s.building, s.device, s.metric`,
      )
      .all(...params);
    return rows.map(toReading);
  }

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    this.ready;
    const params: unknown[] = [q.device];
    let where = 's.device = ?';
    if (q.metric !== undefined) {
      where += ' AND s.metric = ?';
      params.push(q.metric);
    }
    where += ' AND r.ts >= ? AND r.ts < ?';
    params.push(Math.trunc(q.from), Math.trunc(q.to));
    if (q.every === undefined) {
      return this.db
        .prepare<unknown[], SeriesPoint>(
          `SELECT s.metric, r.ts, r.value FROM series s JOIN readings r ON r.series_id = s.id WHERE ${where} ORDER BY s.metric, r.ts`,
        )
        .all(...params);
    }
    const every = Math.trunc(q.every);
    if (!(every > 0)) throw new Error(`range: every must be a positive number of ms, got ${q.every}`);
    const aggregate = q.aggregate ?? 'mean';
    if (!AGGREGATES.includes(aggregate)) throw new Error(`range: unknown aggregate ${JSON.stringify(aggregate)} (one of ${AGGREGATES.join(', ')})`);
    // SQLite takes a bare column of a MIN()/MAX() query from the row holding the extreme: first/last.
    const select: Record<typeof aggregate, string> = {
      mean: 'AVG(r.value) AS value',
      min: 'MIN(r.value) AS value',
      max: 'MAX(r.value) AS value',
      sum: 'SUM(r.value) AS value',
      count: 'COUNT(r.value) AS value',
      first: 'r.value AS value, MIN(r.ts) AS _at',
      last: 'r.value AS value, MAX(r.ts) AS _at',
    };
    // Windows start at multiples of `every` since the epoch, like InfluxDB's GROUP BY time().
    const window = `(r.ts - (((r.ts % ${every}) + ${every}) % ${every}))`;
    const rows = this.db
      .prepare<unknown[], SeriesPoint>(
        `SELECT s.metric AS metric, ${window} AS ts, ${select[aggregate]}
         FROM series s JOIN readings r ON r.series_id = s.id
         WHERE ${where} AND r.value IS NOT NULL
         GROUP BY s.metric, ${window} ORDER BY s.metric, ts`,
      )
      .all(...params);
    return rows.map((p) => ({ metric: p.metric, ts: p.ts, value: p.value }));
  }

  async count(filter: LatestFilter = {}): Promise<number> {
    this.ready;
    const { where, params } = seriesFilter(filter);
    const row = this.db
      .prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM series s JOIN readings r ON r.series_id = s.id ${where}`)
      .get(...params);
    return row?.n ?? 0;
  }

  async events(filter: LatestFilter & { from: number; to: number }): Promise<DeviceEvent[]> {
    this.ready;
    let where = 'ts >= ? AND ts < ?';
    const params: unknown[] = [Math.trunc(filter.from), Math.trunc(filter.to)];
    if (filter.building !== undefined) {
      where += ' AND building = ?';
      params.push(filter.building);
    }
    if (filter.device !== undefined) {
      where += ' AND device = ?';
      params.push(filter.device);
    }
    const rows = this.db
      .prepare<unknown[], { building: string; device: string; kind: string; unit: string | null; event: string; ts: number; attrs: string }>(
        `SELECT building, device, kind, unit, event, ts, attrs FROM events WHERE ${where} ORDER BY ts, building, device, event`,
      )
      .all(...params);
    return rows.map((r) => {
      const e: DeviceEvent = { building: r.building, device: r.device, kind: r.kind as DeviceKind, event: r.event, ts: r.ts, attrs: JSON.parse(r.attrs) };
      if (r.unit) e.unit = r.unit;
      return e;
    });
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

interface ReadingRow {
  building: string;
  device: string;
  kind: string;
  unit: string | null;
  metric: string;
  engUnit: string | null;
  ts: number;
  value: number | null;
  quality: string;
}

function toReading(row: ReadingRow): Reading {
  const r: Reading = {
    building: row.building,
    device: row.device,
    kind: row.kind as DeviceKind,
    metric: row.metric,
    value: row.value,
    ts: row.ts,
    quality: row.quality as Quality,
  };
  if (row.unit) r.unit = row.unit;
  if (row.engUnit) r.engUnit = row.engUnit;
  return r;
}

function seriesFilter(filter: LatestFilter): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (filter.building !== undefined) {
    parts.push('s.building = ?');
    params.push(filter.building);
  }
  if (filter.device !== undefined) {
    parts.push('s.device = ?');
    params.push(filter.device);
  }
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
