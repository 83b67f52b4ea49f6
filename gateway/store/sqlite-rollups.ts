import type Database from 'better-sqlite3';
import { ROLLUP_MS } from '../../common/readings/resolution.ts';

const MINUTE = ROLLUP_MS['1m'];
const HOUR = ROLLUP_MS['1h'];

const floorTo = (ts: number, window: number): number => ts - (((ts % window) + window) % window);

/** The windows of `table` rebuilt from `source`, one series and a range of whole windows at a time. */
function rebuild(db: Database.Database, table: string, window: number, source: string, columns: { min: string; max: string; first: string; last: string; sum: string; count: string; delta: string; present: string }) {
  const del = db.prepare<{ sid: number; from: number; to: number }>(`DELETE FROM ${table} WHERE series_id = @sid AND ts >= @from AND ts < @to`);
  const ins = db.prepare<{ sid: number; from: number; to: number }>(
    `INSERT INTO ${table} (series_id, ts, min, max, first, last, sum, count, delta)
     SELECT @sid, b.w, b.mn, b.mx, f.${columns.first}, l.${columns.last}, b.s, b.c, b.d
     FROM (
       SELECT (ts - (((ts % ${window}) + ${window}) % ${window})) AS w, MIN(ts) AS t0, MAX(ts) AS t1,
              MIN(${columns.min}) AS mn, MAX(${columns.max}) AS mx, SUM(${columns.sum}) AS s, ${columns.count} AS c, SUM(${columns.delta}) AS d
       FROM ${source} WHERE series_id = @sid AND ts >= @from AND ts < @to AND ${columns.present}
       GROUP BY w
     ) b
     JOIN ${source} f ON f.series_id = @sid AND f.ts = b.t0
     JOIN ${source} l ON l.series_id = @sid AND l.ts = b.t1`,
  );
  return (sid: number, from: number, to: number): void => {
    del.run({ sid, from, to });
    ins.run({ sid, from, to });
  };
}

/**
 * The 1-minute and 1-hour rollups of the SQLite store (common/readings/sqlite-queries.ts), filled
 * incrementally: every write rebuilds the windows it touched, 1-minute ones from the raw readings
 * and 1-hour ones from those. Rebuilding (rather than adding to a window) keeps replays and
 * rewritten readings exact.
 */
export class SqliteRollups {
  private readonly minute;
  private readonly hour;

  constructor(db: Database.Database) {
    this.minute = rebuild(db, 'rollup_1m', MINUTE, 'readings', {
      min: 'value',
      max: 'value',
      first: 'value',
      last: 'value',
      sum: 'value',
      count: 'COUNT(*)',
      delta: 'delta',
      present: 'value IS NOT NULL',
    });
    this.hour = rebuild(db, 'rollup_1h', HOUR, 'rollup_1m', { min: 'min', max: 'max', first: 'first', last: 'last', sum: 'sum', count: 'SUM(count)', delta: 'delta', present: '1' });
  }

  /**
   * Rebuilds the windows of series `sid` that hold readings from `firstTs` to `lastTs`, except
   * minute windows starting before `cutoff` (raw readings past their retention: partly deleted).
   * Call inside the transaction that wrote the readings.
   */
  refresh(sid: number, firstTs: number, lastTs: number, cutoff: number): void {
    const from = Math.max(floorTo(firstTs, MINUTE), Number.isFinite(cutoff) ? floorTo(cutoff, MINUTE) + MINUTE : Number.NEGATIVE_INFINITY);
    const to = floorTo(lastTs, MINUTE) + MINUTE;
    if (from >= to) return;
    this.minute(sid, from, to);
    this.hour(sid, floorTo(from, HOUR), floorTo(to - 1, HOUR) + HOUR);
  }
}
