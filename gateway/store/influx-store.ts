import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { InfluxDB } from 'influx';
import { ExponentialBackoff } from 'influx/lib/src/backoff/exponential.js';
import { Pool } from 'influx/lib/src/pool.js';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, DeviceKind, Quality, Reading } from '../../common/reading.ts';
import { batchLineBodies, lineBodies, type LineBody } from './line-protocol.ts';
import { AGGREGATES, quoteIdent, timeLiteral } from './influxql.ts';
import type { Aggregate, LatestFilter, RangeQuery, ReadingStore, SeriesPoint } from './reading-store.ts';
import { normaliseRetention, retentionMs } from './retention.ts';
import { StoreWriteError } from './store-write-error.ts';

export interface InfluxReadingStoreOptions {
  /** INFLUX_URL: `http://user:pass@127.0.0.1:8086/facility`. */
  url: string;
  /** Retention of readings and events: `365d`, `30d`, `12h`, `INF`. */
  retention: string;
  logger?: Logger;
  /** Points per HTTP write request. */
  batchSize?: number;
  /** Write requests in flight at once. */
  concurrency?: number;
  requestTimeoutMs?: number;
}

export const RETENTION_POLICY = 'fm_retention';

interface QueryResponse {
  results?: Array<{
    error?: string;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
  error?: string;
}

/**
 * Readings and events in InfluxDB 1.x. Measurement `readings`: tags building, device, eng_unit,
 * kind, metric, unit; fields `value` (float, absent for readings without a value) and `quality`.
 * Measurement `events`: tags building, device, event, kind, unit; field `attrs` (JSON) and one
 * string field per attribute. Points are built as line protocol here and sent through the
 * package's request pool with precision=ms: its Point API (writePoints) halves the throughput
 * (bench/store-throughput.ts).
 */
export class InfluxReadingStore implements ReadingStore {
  readonly backend = 'influxdb' as const;
  readonly database: string;
  private readonly client: InfluxDB;
  private readonly writePool: Pool;
  private readonly auth: string | undefined;
  private readonly retention: string;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly location: string;
  private readonly agent: HttpAgent;
  private readonly logger: Logger | undefined;

  constructor(opts: InfluxReadingStoreOptions) {
    const u = new URL(opts.url);
    this.database = decodeURIComponent(u.pathname.replace(/^\/+|\/+$/g, ''));
    if (!this.database) throw new Error(`INFLUX_URL ${redact(u)}: name the database in the path, e.g. http://127.0.0.1:8086/facility`);
    this.retention = normaliseRetention(opts.retention);
    this.batchSize = opts.batchSize ?? 5_000;
    this.concurrency = opts.concurrency ?? 3;
    this.logger = opts.logger;
    const protocol = u.protocol === 'https:' ? 'https' : 'http';
    const port = Number(u.port || (protocol === 'https' ? 443 : 80));
    const username = u.username ? decodeURIComponent(u.username) : undefined;
    const password = u.password ? decodeURIComponent(u.password) : undefined;
    this.auth = username !== undefined ? `${username}:${password ?? ''}` : undefined;
    this.location = `${protocol}://${u.hostname}:${port}/${this.database}`;
    this.agent = protocol === 'https' ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    // A short backoff: the caller keeps what failed and retries; a long one only delays recovery.
    const backoff = () => new ExponentialBackoff({ initial: 100, max: 2_000, random: 1 });
    const hostOptions = { agent: this.agent };
    this.client = new InfluxDB({
      hosts: [{ host: u.hostname, port, protocol, options: hostOptions }],
      database: this.database,
      ...(username !== undefined ? { username, password: password ?? '' } : {}),
      pool: { maxRetries: 0, requestTimeout, backoff: backoff() },
    });
    this.writePool = new Pool({ maxRetries: 0, requestTimeout, backoff: backoff() });
    this.writePool.addHost(`${protocol}://${u.hostname}:${port}`, hostOptions);
  }

  async init(): Promise<void> {
    const db = quoteIdent(this.database);
    const rp = quoteIdent(RETENTION_POLICY);
    await this.query(`CREATE DATABASE ${db}`, {}, 'create database');
    const res = await this.query(`SHOW RETENTION POLICIES ON ${db}`, {}, 'show retention policies');
    const rows = rowsOf(res);
    const existing = rows.find((r) => r.name === RETENTION_POLICY);
    if (!existing) {
      await this.query(`CREATE RETENTION POLICY ${rp} ON ${db} DURATION ${this.retention} REPLICATION 1 DEFAULT`, {}, 'create retention policy');
      this.logger?.info({ database: this.database, retention: this.retention }, 'created InfluxDB database and retention policy');
    } else if (durationOf(String(existing.duration)) !== durationOf(this.retention) || existing.default !== true) {
      await this.query(`ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${this.retention} DEFAULT`, {}, 'alter retention policy');
      this.logger?.info({ database: this.database, retention: this.retention, was: existing.duration }, 'changed InfluxDB retention policy');
    }
  }

  async write(readings: readonly Reading[], events: readonly DeviceEvent[] = []): Promise<void> {
    if (readings.length + events.length === 0) return;
    await this.writeBodies(lineBodies(readings, events, this.batchSize));
  }

  /** Writes encoded outbox batches (batch-codec) without decoding them into `Reading` objects. */
  async writeOutboxBatches(payloads: readonly Buffer[]): Promise<void> {
    await this.writeBodies(batchLineBodies(payloads, this.batchSize));
  }

  /**
   * Sends line-protocol bodies, `concurrency` requests at a time, taking the next body from
   * `bodies` only when a request slot is free (so bodies are built while earlier ones are in
   * flight, and at most one per slot is held). Resolves once InfluxDB has every body; on a
   * failure, stops taking bodies and rejects with a StoreWriteError after those in flight settled.
   */
  async writeBodies(bodies: Iterator<LineBody, void, undefined>): Promise<void> {
    let failure: Error | undefined;
    let exhausted = false;
    const take = (): LineBody | undefined => {
      if (exhausted || failure) return undefined;
      let r: IteratorResult<LineBody, void>;
      try {
        r = bodies.next();
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        return undefined;
      }
      if (r.done) exhausted = true;
      return r.done ? undefined : r.value;
    };
    const worker = async (): Promise<void> => {
      for (let body = take(); body; body = take()) {
        try {
          await this.writePool.discard({
            method: 'POST',
            path: '/write',
            query: { db: this.database, rp: RETENTION_POLICY, precision: 'ms' },
            body: body.text as unknown as string,
            ...(this.auth !== undefined ? { auth: this.auth } : {}),
          });
        } catch (err) {
          const dropped = beyondRetention(err);
          if (dropped !== undefined) {
            this.logger?.warn({ dropped }, 'InfluxDB dropped readings older than the retention policy');
            continue;
          }
          const e = this.failure(`write of ${body.points} points`, err);
          failure ??= new StoreWriteError(e.message, !isRejectedPoints(err));
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    if (failure) throw failure;
  }

  async latest(filter: LatestFilter = {}): Promise<Reading[]> {
    const { where, params } = tagFilter(filter);
    const res = await this.query(
      `SELECT last("quality") AS "quality", "value" FROM ${this.from('readings')}${where ? ` WHERE ${where}` : ''} GROUP BY *`,
      params,
      'latest readings',
    );
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

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    const params: Record<string, string> = { device: q.device };
    let where = `"device" = $device AND time >= ${timeLiteral(q.from)} AND time < ${timeLiteral(q.to)}`;
    if (q.metric !== undefined) {
      where += ' AND "metric" = $metric';
      params.metric = q.metric;
    }
    let text: string;
    if (q.every !== undefined) {
      const every = Math.trunc(q.every);
      if (!(every > 0)) throw new Error(`range: every must be a positive number of ms, got ${q.every}`);
      const fn = aggregateFunction(q.aggregate ?? 'mean');
      text = `SELECT ${fn}("value") AS "value" FROM ${this.from('readings')} WHERE ${where} GROUP BY time(${every}ms), "metric" fill(none)`;
    } else {
      text = `SELECT "value", "quality" FROM ${this.from('readings')} WHERE ${where} GROUP BY "metric"`;
    }
    const res = await this.query(text, params, 'range');
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

  async count(filter: LatestFilter = {}): Promise<number> {
    const { where, params } = tagFilter(filter);
    const res = await this.query(`SELECT count("quality") FROM ${this.from('readings')}${where ? ` WHERE ${where}` : ''}`, params, 'count');
    const s = seriesOf(res)[0];
    if (!s) return 0;
    const col = columnIndex(s.columns);
    return Number(s.values[0]?.[col('count')] ?? 0);
  }

  async events(filter: LatestFilter & { from: number; to: number }): Promise<DeviceEvent[]> {
    const tags = tagFilter(filter);
    const where = `time >= ${timeLiteral(filter.from)} AND time < ${timeLiteral(filter.to)}${tags.where ? ` AND ${tags.where}` : ''}`;
    const res = await this.query(
      `SELECT "attrs", "building", "device", "event", "kind", "unit" FROM ${this.from('events')} WHERE ${where}`,
      tags.params,
      'events',
    );
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

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private from(measurement: 'readings' | 'events'): string {
    return `${quoteIdent(RETENTION_POLICY)}.${quoteIdent(measurement)}`;
  }

  private async query(text: string, params: Record<string, string>, what: string): Promise<QueryResponse> {
    let res: QueryResponse;
    try {
      res = (await this.client.queryRaw(text, { database: this.database, precision: 'ms', placeholders: params })) as QueryResponse;
    } catch (err) {
      throw this.failure(what, err);
    }
    const error = res.error ?? res.results?.find((r) => r.error)?.error;
    if (error) throw new Error(`InfluxDB ${what} on ${this.location} failed: ${error}`);
    return res;
  }

  private failure(what: string, err: unknown): Error {
    return new Error(`InfluxDB ${what} on ${this.location} failed: ${describeFailure(err)}`);
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection lost',
  EPIPE: 'connection lost',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

/** The package's errors made readable: `A 400 Bad Request error occurred: {"error":"…"}`, `No host available`, socket errors. */
function describeFailure(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${message})`;
  if (message === 'No host available') return 'unreachable (connection failed just before; backing off)';
  if (message === 'Request timed out') return 'timed out';
  const m = /^A (\d+) (.*?) error occurred: (.*)$/s.exec(message);
  if (!m) return message;
  let detail = m[3]!.trim();
  try {
    const body = JSON.parse(detail) as { error?: unknown };
    if (typeof body.error === 'string') detail = body.error;
  } catch {
    // not JSON: keep the body as it came
  }
  return `${m[1]} ${m[2]}: ${detail}`;
}

/** InfluxDB answers 400 `partial write: points beyond retention policy dropped=N` when that was all. */
function beyondRetention(err: unknown): number | undefined {
  const m = /^A 400 .*"partial write: points beyond retention policy dropped=(\d+)"\}\s*$/.exec(err instanceof Error ? err.message : '');
  return m ? Number(m[1]) : undefined;
}

/** 400: InfluxDB refused points (parse error, field type conflict); the same body would be refused again. */
function isRejectedPoints(err: unknown): boolean {
  return err instanceof Error && /^A 400 /.test(err.message);
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

function aggregateFunction(a: Aggregate): string {
  if (!AGGREGATES.includes(a)) throw new Error(`range: unknown aggregate ${JSON.stringify(a)} (one of ${AGGREGATES.join(', ')})`);
  return a;
}

function seriesOf(res: QueryResponse) {
  return res.results?.[0]?.series ?? [];
}

function rowsOf(res: QueryResponse): Array<Record<string, unknown>> {
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

function parseAttrs(v: unknown): DeviceEvent['attrs'] {
  if (typeof v !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(v);
    return parsed && typeof parsed === 'object' ? (parsed as DeviceEvent['attrs']) : {};
  } catch {
    return {};
  }
}

/** InfluxDB reports `365d` as `8760h0m0s` and INF as `0s`: compare in ms (0 = forever). */
function durationOf(s: string): number {
  return retentionMs(s) ?? 0;
}

function redact(u: URL): string {
  const c = new URL(u.href);
  if (c.password) c.password = '***';
  return c.href;
}
