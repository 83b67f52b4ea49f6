import { Pool } from 'influx/lib/src/pool.js';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { InfluxQueryClient, shortBackoff } from '../../common/readings/influx-client.ts';
import {
  countQuery,
  decodeCount,
  decodeEvents,
  decodeLatest,
  decodeRange,
  eventsQuery,
  latestQuery,
  quoteIdent,
  rangeQuery,
  RETENTION_POLICY,
  ROLLUP_POLICIES,
  rowsOf,
  seriesOf,
} from '../../common/readings/influxql.ts';
import type { EventQuery, LatestFilter, RangeQuery, SeriesPoint } from '../../common/readings/reading-history.ts';
import { CONTINUOUS_QUERIES, continuousQuery, LATE_MS, rollupQuery, sameQuery, type RollupLevel } from './influx-rollups.ts';
import { PendingRollups } from './pending-rollups.ts';
import { batchLineBodies, lineBodies, type LineBody, type TimeSpan } from './line-protocol.ts';
import type { ReadingStore } from './reading-store.ts';
import { normaliseRetention, retentionMs } from '../../common/readings/retention.ts';
import type { StoreSelection, StoredReading } from './store-selection.ts';
import { StoreWriteError } from './store-write-error.ts';

export interface InfluxReadingStoreOptions {
  /** INFLUX_URL: `http://user:pass@127.0.0.1:8086/facility`. */
  url: string;
  /** Retention of raw readings and events: `365d`, `30d`, `12h`, `INF`. */
  retention: string;
  /** Retention of the rollups; default INF. */
  rollupRetention?: { '1m'?: string; '1h'?: string };
  logger?: Logger;
  /** Points per HTTP write request. */
  batchSize?: number;
  /** Write requests in flight at once. */
  concurrency?: number;
  requestTimeoutMs?: number;
  /** Wall clock, to tell late readings (rolled up by the gateway) from fresh ones. Default Date.now. */
  now?: () => number;
  /** Where the span of late readings still to roll up survives a restart (`DATA_DIR/rollups-pending.json`). */
  pendingRollupsFile?: string;
}

/**
 * Readings and events in InfluxDB 1.x, the write side: creates and migrates the database, its
 * retention policies and the continuous queries of the rollups (influx-rollups.ts), and writes.
 * Measurement `readings`: tags building, device, eng_unit, kind, metric, unit; fields `value`
 * (float, absent for readings without a value), `delta` (counters) and `quality`. Measurement
 * `events`: tags building, device, event, kind, unit; field `attrs` (JSON) and one string field per
 * attribute. Points are built as line protocol here and sent through the package's request pool
 * with precision=ms: its Point API (writePoints) halves the throughput (bench/store-throughput.ts).
 * Queries are those of the read-only history (common/readings/influx-history.ts).
 */
export class InfluxReadingStore implements ReadingStore {
  readonly backend = 'influxdb' as const;
  readonly database: string;
  private readonly client: InfluxQueryClient;
  private readonly writePool: Pool;
  private readonly auth: string | undefined;
  private readonly retention: string;
  private readonly rollupRetention: Record<RollupLevel, string>;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  /** Rollups the gateway runs itself (late readings, migration), in the background. */
  private readonly pendingRollups: PendingRollups;
  private migration: Promise<void> | undefined;

  constructor(opts: InfluxReadingStoreOptions) {
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    this.client = new InfluxQueryClient(opts.url, { requestTimeoutMs: requestTimeout });
    const { protocol, hostname, port, database, username, password } = this.client.target;
    this.database = database;
    this.retention = normaliseRetention(opts.retention);
    this.rollupRetention = { '1m': normaliseRetention(opts.rollupRetention?.['1m'] ?? 'INF'), '1h': normaliseRetention(opts.rollupRetention?.['1h'] ?? 'INF') };
    this.now = opts.now ?? Date.now;
    this.pendingRollups = new PendingRollups({
      run: async (level, from, to) => {
        await this.query(rollupQuery(this.database, level, from, to), `roll-up ${level}`);
      },
      file: opts.pendingRollupsFile,
      logger: opts.logger,
    });
    this.batchSize = opts.batchSize ?? 5_000;
    this.concurrency = opts.concurrency ?? 3;
    this.logger = opts.logger;
    this.auth = username !== undefined ? `${username}:${password ?? ''}` : undefined;
    this.writePool = new Pool({ maxRetries: 0, requestTimeout, backoff: shortBackoff() });
    this.writePool.addHost(`${protocol}://${hostname}:${port}`, { agent: this.client.agent });
  }

  /**
   * Creates the database, the retention policies of raw readings (`fm_retention`, the default) and
   * of the rollups (`fm_1m`, `fm_1h`) and the continuous queries; changes what differs from the
   * site file. Shortening the raw retention waits until the readings it would drop are rolled up
   * (in the background, a day at a time); an interrupted migration starts again at the next start.
   */
  async init(): Promise<void> {
    const db = quoteIdent(this.database);
    await this.query(`CREATE DATABASE ${db}`, 'create database');
    const policies = new Map(rowsOf(await this.query(`SHOW RETENTION POLICIES ON ${db}`, 'show retention policies')).map((r) => [String(r.name), r]));
    for (const level of ['1m', '1h'] as const) await this.ensurePolicy(ROLLUP_POLICIES[level], this.rollupRetention[level], false, policies.get(ROLLUP_POLICIES[level]));
    const raw = policies.get(RETENTION_POLICY);
    const was = raw ? durationOf(String(raw.duration)) : undefined;
    const wanted = durationOf(this.retention);
    const shrinks = was !== undefined && wanted !== 0 && (was === 0 || wanted < was);
    if (!shrinks) await this.ensurePolicy(RETENTION_POLICY, this.retention, true, raw);
    await this.ensureContinuousQueries();
    await this.pendingRollups.load();
    if (shrinks) {
      this.migration ??= this.rollUpEverything()
        .then(async (done) => {
          if (done) await this.ensurePolicy(RETENTION_POLICY, this.retention, true, raw);
        })
        .catch((err: unknown) => this.logger?.error({ err: (err as Error).message }, 'rolling up readings before shortening their retention failed; it starts again at the next start'));
    }
  }

  /** Resolves once the late readings and a migration started by init() are rolled up (and the raw retention shortened). */
  async rolledUp(): Promise<void> {
    await this.migration;
    await this.pendingRollups.idle();
  }

  private async ensurePolicy(name: string, duration: string, isDefault: boolean, existing: Record<string, unknown> | undefined): Promise<void> {
    const db = quoteIdent(this.database);
    const rp = quoteIdent(name);
    // Fewer, longer shards for the rollups: a year of hourly values is read from one or two.
    const shard = name === RETENTION_POLICY ? '' : ` SHARD DURATION ${name === ROLLUP_POLICIES['1h'] ? '52w' : '4w'}`;
    if (!existing) {
      await this.query(`CREATE RETENTION POLICY ${rp} ON ${db} DURATION ${duration} REPLICATION 1${shard}${isDefault ? ' DEFAULT' : ''}`, 'create retention policy');
      this.logger?.info({ database: this.database, policy: name, retention: duration }, 'created InfluxDB retention policy');
    } else if (durationOf(String(existing.duration)) !== durationOf(duration) || (isDefault && existing.default !== true)) {
      await this.query(`ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${duration}${isDefault ? ' DEFAULT' : ''}`, 'alter retention policy');
      this.logger?.info({ database: this.database, policy: name, retention: duration, was: existing.duration }, 'changed InfluxDB retention policy');
    }
  }

  private async ensureContinuousQueries(): Promise<void> {
    const res = await this.query('SHOW CONTINUOUS QUERIES', 'show continuous queries');
    const existing = new Map<string, string>();
    for (const s of seriesOf(res)) if (s.name === this.database) for (const [name, text] of s.values ?? []) existing.set(String(name), String(text));
    for (const level of ['1m', '1h'] as const) {
      const name = CONTINUOUS_QUERIES[level];
      const wanted = continuousQuery(this.database, level);
      const has = existing.get(name);
      if (has !== undefined && sameQuery(has, wanted)) continue;
      if (has !== undefined) await this.query(`DROP CONTINUOUS QUERY ${quoteIdent(name)} ON ${quoteIdent(this.database)}`, 'drop continuous query');
      await this.query(wanted, 'create continuous query');
      this.logger?.info({ database: this.database, query: name }, has === undefined ? 'created continuous query' : 'replaced continuous query');
    }
  }

  /** Rolls up every raw reading the database holds (migration); true once done, false when the store closed first. */
  private async rollUpEverything(): Promise<boolean> {
    const first = rowsOf(await this.query(`SELECT first("quality") FROM ${quoteIdent(RETENTION_POLICY)}."readings"`, 'first reading'))[0]?.time;
    if (typeof first !== 'number') return true;
    this.logger?.info({ from: new Date(first).toISOString() }, 'rolling up the stored readings before shortening their retention');
    await this.pendingRollups.add(first, this.now());
    return this.pendingRollups.idle();
  }

  /** Readings that reached InfluxDB too late for the continuous queries are rolled up here. */
  private async rollUpLate(span: TimeSpan): Promise<void> {
    const now = this.now();
    if (!(span.first < now - LATE_MS)) return;
    const kept = retentionMs(this.retention);
    // Windows raw no longer holds entirely are left as they are.
    const first = kept === undefined ? span.first : Math.max(span.first, now - kept + 60_000);
    if (first > span.last) return;
    try {
      await this.pendingRollups.add(first, span.last);
    } catch (err) {
      throw new StoreWriteError(`late readings could not be recorded for rolling up: ${(err as Error).message}`, true);
    }
  }

  private async query(text: string, what: string) {
    return this.client.query({ text, params: {}, what });
  }

  async write(readings: readonly StoredReading[], events: readonly DeviceEvent[] = []): Promise<void> {
    if (readings.length + events.length === 0) return;
    await this.writeBodies(lineBodies(readings, events, this.batchSize));
    if (readings.length === 0) return;
    const span: TimeSpan = { first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY };
    for (const r of readings) {
      if (r.ts < span.first) span.first = r.ts;
      if (r.ts > span.last) span.last = r.ts;
    }
    await this.rollUpLate(span);
  }

  /** Writes encoded outbox batches (batch-codec) without decoding them into `Reading` objects; `selections` as in batchLineBodies. */
  async writeOutboxBatches(payloads: readonly Buffer[], selections?: readonly (StoreSelection | undefined)[]): Promise<void> {
    const span: TimeSpan = { first: Number.POSITIVE_INFINITY, last: Number.NEGATIVE_INFINITY };
    await this.writeBodies(batchLineBodies(payloads, this.batchSize, selections, span));
    await this.rollUpLate(span);
  }

  /** Bytes of the database's shards on InfluxDB's disk (`SHOW STATS`, which needs an admin user when authentication is on). */
  async diskBytes(): Promise<number> {
    const res = await this.query(`SHOW STATS FOR 'shard'`, 'shard sizes');
    let total = 0;
    for (const s of seriesOf(res)) {
      if (s.tags?.database !== this.database) continue;
      const i = s.columns.indexOf('diskBytes');
      for (const row of s.values) total += Number(row[i] ?? 0);
    }
    return total;
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
          const e = this.client.failure(`write of ${body.points} points`, err);
          failure ??= new StoreWriteError(e.message, !isRejectedPoints(err));
        }
      }
    };
    await Promise.all(Array.from({ length: this.concurrency }, worker));
    if (failure) throw failure;
  }

  async latest(filter: LatestFilter = {}): Promise<Reading[]> {
    return decodeLatest(await this.client.query(latestQuery(filter)));
  }

  async range(q: RangeQuery): Promise<SeriesPoint[]> {
    return decodeRange(await this.client.query(rangeQuery(q)));
  }

  async count(filter: LatestFilter = {}): Promise<number> {
    return decodeCount(await this.client.query(countQuery(filter)));
  }

  async events(q: EventQuery): Promise<DeviceEvent[]> {
    return decodeEvents(await this.client.query(eventsQuery(q)));
  }

  async close(): Promise<void> {
    await this.pendingRollups.stop();
    this.client.close();
  }
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

/** InfluxDB reports `365d` as `8760h0m0s` and INF as `0s`: compare in ms (0 = forever). */
function durationOf(s: string): number {
  return retentionMs(s) ?? 0;
}
