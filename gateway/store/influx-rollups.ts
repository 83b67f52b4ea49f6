import { quoteIdent, RETENTION_POLICY, ROLLUP_POLICIES, timeLiteral } from '../../common/readings/influxql.ts';
import { ROLLUP_MS } from '../../common/readings/resolution.ts';

export type RollupLevel = keyof typeof ROLLUP_POLICIES;

/** Continuous query name of each rollup. */
export const CONTINUOUS_QUERIES: Readonly<Record<RollupLevel, string>> = { '1m': 'fm_rollup_1m', '1h': 'fm_rollup_1h' };

/**
 * How each continuous query resamples (InfluxDB 1.x `RESAMPLE EVERY … FOR …`): every minute, the
 * last two 1-minute windows from the raw readings and the last two 1-hour windows from the 1-minute
 * rollups. A reading that reaches InfluxDB more than a minute after its time may miss them; the
 * gateway rolls such readings up itself with the same query (InfluxReadingStore).
 */
const RESAMPLE: Readonly<Record<RollupLevel, string>> = { '1m': 'RESAMPLE EVERY 1m FOR 2m', '1h': 'RESAMPLE EVERY 1m FOR 2h' };

/** A reading written this long after its time is rolled up by the gateway, not left to the continuous query. */
export const LATE_MS = 60_000;

const SOURCE: Readonly<Record<RollupLevel, { from: string; fields: string }>> = {
  '1m': {
    from: RETENTION_POLICY,
    fields: 'min("value") AS "min", max("value") AS "max", first("value") AS "first", last("value") AS "last", sum("value") AS "sum", count("value") AS "count", sum("delta") AS "delta"',
  },
  '1h': {
    from: ROLLUP_POLICIES['1m'],
    fields: 'min("min") AS "min", max("max") AS "max", first("first") AS "first", last("last") AS "last", sum("sum") AS "sum", sum("count") AS "count", sum("delta") AS "delta"',
  },
};

function select(database: string, level: RollupLevel): string {
  const db = quoteIdent(database);
  const { from, fields } = SOURCE[level];
  return `SELECT ${fields} INTO ${db}.${quoteIdent(ROLLUP_POLICIES[level])}."readings" FROM ${db}.${quoteIdent(from)}."readings"`;
}

const groupBy = (level: RollupLevel): string => `GROUP BY time(${level}), *`;

/** `CREATE CONTINUOUS QUERY` of a rollup. */
export function continuousQuery(database: string, level: RollupLevel): string {
  return `CREATE CONTINUOUS QUERY ${quoteIdent(CONTINUOUS_QUERIES[level])} ON ${quoteIdent(database)} ${RESAMPLE[level]} BEGIN ${select(database, level)} ${groupBy(level)} END`;
}

/** The continuous query's own statement over the windows from `from` to `to` (multiples of the rollup's window). */
export function rollupQuery(database: string, level: RollupLevel, from: number, to: number): string {
  return `${select(database, level)} WHERE time >= ${timeLiteral(from)} AND time < ${timeLiteral(to)} ${groupBy(level)}`;
}

/** InfluxDB shows a continuous query with identifiers unquoted where it can: compare without quotes. */
export function sameQuery(a: string, b: string): boolean {
  const plain = (s: string) => s.replace(/"/g, '').replace(/\s+/g, ' ').trim();
  return plain(a) === plain(b);
}

export const floorTo = (ts: number, window: number): number => ts - (((ts % window) + window) % window);

/** Each rollup statement covers at most this much time, so none runs long. */
const STEP_MS: Readonly<Record<RollupLevel, number>> = { '1m': 86_400_000, '1h': 30 * 86_400_000 };

/**
 * The pieces in which to roll up readings from `first` to `last`: the 1-minute windows a day at a
 * time first, then the hours that hold them 30 days at a time.
 */
export function rollupSteps(first: number, last: number): Array<{ level: RollupLevel; from: number; to: number }> {
  const steps: Array<{ level: RollupLevel; from: number; to: number }> = [];
  for (const level of ['1m', '1h'] as const) {
    const w = ROLLUP_MS[level];
    const end = floorTo(last, w) + w;
    for (let from = floorTo(first, w); from < end; from += STEP_MS[level]) steps.push({ level, from, to: Math.min(end, from + STEP_MS[level]) });
  }
  return steps;
}
