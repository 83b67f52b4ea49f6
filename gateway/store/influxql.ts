import type { Aggregate } from './reading-store.ts';

// InfluxQL quoting: https://docs.influxdata.com/influxdb/v1/query_language/spec/#identifiers
// Values from devices never reach a query as text: they go as bound parameters (`$device`).

/** A double-quoted identifier (database, retention policy, measurement, tag key). */
export function quoteIdent(name: string): string {
  return '"' + name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
}

/** A single-quoted string literal. */
export function stringLiteral(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
}

/** An epoch-ms time bound, e.g. `1732350000000ms`. */
export function timeLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`time bound must be a finite epoch ms number, got ${ms}`);
  return `${Math.trunc(ms)}ms`;
}

export const AGGREGATES: readonly Aggregate[] = ['mean', 'min', 'max', 'last', 'first', 'sum', 'count'];
