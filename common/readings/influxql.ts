import type { DeviceEvent, DeviceKind, Quality, Reading } from '../reading.ts';
import { checkRangeQuery, type Aggregate, type EventQuery, type LatestFilter, type RangeQuery, type SeriesPoint } from './reading-history.ts';
import type { Resolution } from './resolution.ts';

// InfluxQL quoting: https://docs.influxdata.com/influxdb/v1/query_language/spec/#identifiers
// Values from devices never reach a query as text: they go as bound parameters (`$device`).

/** The retention policy raw readings and events are written to (docs/gateway.md#reading-store). */
export const RETENTION_POLICY = 'fm_retention';

/** The retention policy of each rollup; its measurement is `readings` too. */
export const ROLLUP_POLICIES = { '1m': 'fm_1m', '1h': 'fm_1h' } as const;

/** Fields of a rollup point: the window's min, max, first, last, sum and count of the values, and the sum of the counter deltas. */
export const ROLLUP_FIELDS = ['min', 'max', 'first', 'last', 'sum', 'count', 'delta'] as const;

// An aggregate over raw readings, and the same aggregate over rollup points (exact: windows made of whole rollup windows).
const RAW_AGGREGATE: Record<Aggregate, string> = {
  mean: 'mean("value")',
  min: 'min("value")',
  max: 'max("value")',
  first: 'first("value")',
  last: 'last("value")',
  sum: 'sum("value")',
  count: 'count("value")',
  delta: 'sum("delta")',
};
const ROLLUP_AGGREGATE: Record<Aggregate, string> = {
  mean: 'sum("sum") / sum("count")',
  min: 'min("min")',
  max: 'max("max")',
  first: 'first("first")',
  last: 'last("last")',
  sum: 'sum("sum")',
  count: 'sum("count")',
  delta: 'sum("delta")',
};

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

/** A query with its bound parameters. */
export interface InfluxQuery {
  text: string;
  params: Record<string, string>;
  /** What the query is for, in error messages. */
  what: string;
}

/** The JSON answer of InfluxDB 1.x's /query. */
export interface QueryResponse {
  results?: Array<{
    error?: string;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
  error?: string;
}

function from(measurement: 'readings' | 'events', resolution: Resolution = 'raw'): string {
  return `${quoteIdent(resolution === 'raw' ? RETENTION_POLICY : ROLLUP_POLICIES[resolution])}.${quoteIdent(measurement)}`;
}

function tagFilter(filter: LatestFilter): { where: string; params: Record<string, string> } {
  const parts: string[] = [];
  const params: Record<string, string> = {};
  if (filter.building !== undefined) {
    parts.push('"building" = $building');
    params.building = filter.building;
  }
  if (filter.device !== undefined) {
    parts.push('"device" = $device');
    params.device = filter.device;
  }
  return { where: parts.join(' AND '), params };
}

export function latestQuery(filter: LatestFilter): InfluxQuery {
  const { where, params } = tagFilter(filter);
  return { text: `SELECT last("quality") AS "quality", "value" FROM ${from('readings')}${where ? ` WHERE ${where}` : ''} GROUP BY *`, params, what: 'latest readings' };
}

export function rangeQuery(q: RangeQuery): InfluxQuery {
  const window = checkRangeQuery(q);
  const params: Record<string, string> = { device: q.device };
  let where = `"device" = $device AND time >= ${timeLiteral(q.from)} AND time < ${timeLiteral(q.to)}`;
  if (q.metric !== undefined) {
    where += ' AND "metric" = $metric';
    params.metric = q.metric;
  }
  const text = window
    ? `SELECT ${(window.resolution === 'raw' ? RAW_AGGREGATE : ROLLUP_AGGREGATE)[window.aggregate]} AS "value" FROM ${from('readings', window.resolution)} WHERE ${where} GROUP BY time(${window.every}ms), "metric" fill(none)`
    : `SELECT "value", "quality" FROM ${from('readings')} WHERE ${where} GROUP BY "metric"`;
  return { text, params, what: 'range' };
}

export function countQuery(filter: LatestFilter): InfluxQuery {
  const { where, params } = tagFilter(filter);
  return { text: `SELECT count("quality") FROM ${from('readings')}${where ? ` WHERE ${where}` : ''}`, params, what: 'count' };
}

export function eventsQuery(q: EventQuery): InfluxQuery {
  const tags = tagFilter(q);
  const where = `time >= ${timeLiteral(q.from)} AND time < ${timeLiteral(q.to)}${tags.where ? ` AND ${tags.where}` : ''}`;
  return { text: `SELECT "attrs", "building", "device", "event", "kind", "unit" FROM ${from('events')} WHERE ${where}`, params: tags.params, what: 'events' };
}

export function seriesOf(res: QueryResponse) {
  return res.results?.[0]?.series ?? [];
}

/** Every row of the answer as an object keyed by column. */
export function rowsOf(res: QueryResponse): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const s of seriesOf(res)) {
    for (const row of s.values) out.push(Object.fromEntries(s.columns.map((c, i) => [c, row[i]])));
  }
  return out;
}

function columnIndex(columns: string[]): (name: string) => number {
  return (name) => columns.indexOf(name);
}

function numberOrNull(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

export function decodeLatest(res: QueryResponse): Reading[] {
  const out: Reading[] = [];
  for (const s of seriesOf(res)) {
    const tags = s.tags ?? {};
    const col = columnIndex(s.columns);
    for (const row of s.values) {
      const reading: Reading = {
        building: tags.building ?? '',
        device: tags.device ?? '',
        kind: (tags.kind ?? '') as DeviceKind,
        metric: tags.metric ?? '',
        value: numberOrNull(row[col('value')]),
        ts: Number(row[col('time')]),
        quality: String(row[col('quality')]) as Quality,
      };
      if (tags.unit) reading.unit = tags.unit;
      if (tags.eng_unit) reading.engUnit = tags.eng_unit;
      out.push(reading);
    }
  }
  return out;
}

export function decodeRange(res: QueryResponse): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const s of seriesOf(res)) {
    const metric = s.tags?.metric ?? '';
    const col = columnIndex(s.columns);
    const t = col('time');
    const v = col('value');
    for (const row of s.values) out.push({ metric, ts: Number(row[t]), value: numberOrNull(row[v]) });
  }
  return out;
}

export function decodeCount(res: QueryResponse): number {
  const s = seriesOf(res)[0];
  if (!s) return 0;
  return Number(s.values[0]?.[columnIndex(s.columns)('count')] ?? 0);
}

export function decodeEvents(res: QueryResponse): DeviceEvent[] {
  const out: DeviceEvent[] = [];
  for (const s of seriesOf(res)) {
    const col = columnIndex(s.columns);
    const [t, a, b, d, e, k, u] = ['time', 'attrs', 'building', 'device', 'event', 'kind', 'unit'].map(col) as number[];
    for (const row of s.values) {
      const event: DeviceEvent = {
        building: String(row[b!] ?? ''),
        device: String(row[d!] ?? ''),
        kind: String(row[k!] ?? '') as DeviceKind,
        event: String(row[e!] ?? ''),
        ts: Number(row[t!]),
        attrs: parseAttrs(row[a!]),
      };
      const unit = row[u!];
      if (typeof unit === 'string' && unit) event.unit = unit;
      out.push(event);
    }
  }
  return out.sort((x, y) => x.ts - y.ts);
}

function parseAttrs(v: unknown): DeviceEvent['attrs'] {
  if (typeof v !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed && typeof parsed === 'object' ? (parsed as DeviceEvent['attrs']) : {};
  } catch {
    return {};
  }
}
