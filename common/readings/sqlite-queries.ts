import type Database from 'better-sqlite3';
import type { DeviceEvent, DeviceKind, Quality, Reading } from '../reading.ts';
import { checkRangeQuery, type Aggregate, type EventQuery, type LatestFilter, type RangeQuery, type SeriesPoint } from './reading-history.ts';
import type { Resolution } from './resolution.ts';

/** The table of each rollup: one row per series and window, `ts` its start. */
export const ROLLUP_TABLES = { '1m': 'rollup_1m', '1h': 'rollup_1h' } as const;

const rollupTable = (name: string): string => `
CREATE TABLE IF NOT EXISTS ${name} (
  series_id INTEGER NOT NULL REFERENCES series (id),
  ts INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  first REAL NOT NULL,
  last REAL NOT NULL,
  sum REAL NOT NULL,
  count INTEGER NOT NULL,
  delta REAL,
  PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;`;

/**
 * `DATA_DIR/readings.db` (docs/gateway.md#reading-store). A series is (building, device, metric);
 * a reading is (series, ts), so a replayed reading replaces the stored one. `delta` is a counter's
 * increase since its previous stored reading. The rollup tables hold, per series and window, the
 * min, max, first, last, sum and count of the values and the sum of the deltas.
 */
export const SQLITE_SCHEMA = `
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
  delta REAL,
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
${rollupTable(ROLLUP_TABLES['1m'])}
${rollupTable(ROLLUP_TABLES['1h'])}
CREATE TABLE IF NOT EXISTS store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
`;

/** True once the tables of SQLITE_SCHEMA exist in `db`. */
export function hasReadingTables(db: Database.Database): boolean {
  const row = db
    .prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('series', 'readings', 'events', 'rollup_1m', 'rollup_1h')")
    .get();
  return row?.n === 5;
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

export function sqliteLatest(db: Database.Database, filter: LatestFilter): Reading[] {
  const { where, params } = seriesFilter(filter);
  const rows = db
    .prepare<unknown[], ReadingRow>(
      `SELECT s.building, s.device, s.kind, s.unit, s.metric, s.eng_unit AS engUnit, r.ts, r.value, r.quality
       FROM series s JOIN readings r ON r.series_id = s.id AND r.ts = (SELECT MAX(ts) FROM readings WHERE series_id = s.id)
       ${where} ORDER BY s.building, s.device, s.metric`,
    )
    .all(...params);
  return rows.map(toReading);
}

// SQLite takes a bare column of a MIN()/MAX() query from the row holding the extreme: first/last.
const RAW_AGGREGATE: Record<Aggregate, string> = {
  mean: 'AVG(r.value) AS value',
  min: 'MIN(r.value) AS value',
  max: 'MAX(r.value) AS value',
  sum: 'SUM(r.value) AS value',
  count: 'COUNT(r.value) AS value',
  first: 'r.value AS value, MIN(r.ts) AS _at',
  last: 'r.value AS value, MAX(r.ts) AS _at',
  delta: 'SUM(r.delta) AS value',
};
// The same over rollup rows: exact, since a window is made of whole rollup windows.
const ROLLUP_AGGREGATE: Record<Aggregate, string> = {
  mean: 'CAST(SUM(r.sum) AS REAL) / SUM(r.count) AS value',
  min: 'MIN(r.min) AS value',
  max: 'MAX(r.max) AS value',
  sum: 'SUM(r.sum) AS value',
  count: 'SUM(r.count) AS value',
  first: 'r.first AS value, MIN(r.ts) AS _at',
  last: 'r.last AS value, MAX(r.ts) AS _at',
  delta: 'SUM(r.delta) AS value',
};

function tableOf(resolution: Resolution): string {
  return resolution === 'raw' ? 'readings' : ROLLUP_TABLES[resolution];
}

/** Answers like InfluxDB: windows aligned to the epoch, aggregates over readings that have a value, windows without one left out. */
export function sqliteRange(db: Database.Database, q: RangeQuery): SeriesPoint[] {
  const window = checkRangeQuery(q);
  const params: unknown[] = [q.device];
  let where = 's.device = ?';
  if (q.metric !== undefined) {
    where += ' AND s.metric = ?';
    params.push(q.metric);
  }
  where += ' AND r.ts >= ? AND r.ts < ?';
  params.push(Math.trunc(q.from), Math.trunc(q.to));
  if (!window) {
    return db
      .prepare<unknown[], SeriesPoint>(`SELECT s.metric, r.ts, r.value FROM series s JOIN readings r ON r.series_id = s.id WHERE ${where} ORDER BY s.metric, r.ts`)
      .all(...params);
  }
  const { every, aggregate, resolution } = window;
  const select = (resolution === 'raw' ? RAW_AGGREGATE : ROLLUP_AGGREGATE)[aggregate];
  const present = aggregate === 'delta' ? 'r.delta IS NOT NULL' : resolution === 'raw' ? 'r.value IS NOT NULL' : '1';
  // Windows start at multiples of `every` since the epoch, like InfluxDB's GROUP BY time().
  const start = `(r.ts - (((r.ts % ${every}) + ${every}) % ${every}))`;
  const rows = db
    .prepare<unknown[], SeriesPoint>(
      `SELECT s.metric AS metric, ${start} AS ts, ${select}
       FROM series s JOIN ${tableOf(resolution)} r ON r.series_id = s.id
       WHERE ${where} AND ${present}
       GROUP BY s.metric, ${start} ORDER BY s.metric, ts`,
    )
    .all(...params);
  return rows.map((p) => ({ metric: p.metric, ts: p.ts, value: p.value }));
}

export function sqliteCount(db: Database.Database, filter: LatestFilter): number {
  const { where, params } = seriesFilter(filter);
  const row = db.prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM series s JOIN readings r ON r.series_id = s.id ${where}`).get(...params);
  return row?.n ?? 0;
}

export function sqliteEvents(db: Database.Database, q: EventQuery): DeviceEvent[] {
  let where = 'ts >= ? AND ts < ?';
  const params: unknown[] = [Math.trunc(q.from), Math.trunc(q.to)];
  if (q.building !== undefined) {
    where += ' AND building = ?';
    params.push(q.building);
  }
  if (q.device !== undefined) {
    where += ' AND device = ?';
    params.push(q.device);
  }
  const rows = db
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
