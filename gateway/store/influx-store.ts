import { Pool } from 'influx/lib/src/pool.js';
import type { Logger } from '../../common/logger.ts';
import type { DeviceEvent, Reading } from '../../common/reading.ts';
import { InfluxQueryClient, shortBackoff } from '../../common/readings/influx-client.ts';
import { countQuery, decodeCount, decodeEvents, decodeLatest, decodeRange, eventsQuery, latestQuery, quoteIdent, rangeQuery, RETENTION_POLICY, rowsOf } from '../../common/readings/influxql.ts';
import type { EventQuery, LatestFilter, RangeQuery, SeriesPoint } from '../../common/readings/reading-history.ts';
import { batchLineBodies, lineBodies, type LineBody } from './line-protocol.ts';
import type { ReadingStore } from './reading-store.ts';
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

/**
 * Readings and events in InfluxDB 1.x, the write side: creates the database and its retention
 * policy, and writes. Measurement `readings`: tags building, device, eng_unit, kind, metric, unit;
 * fields `value` (float, absent for readings without a value) and `quality`. Measurement `events`:
 * tags building, device, event, kind, unit; field `attrs` (JSON) and one string field per
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
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly logger: Logger | undefined;

  constructor(opts: InfluxReadingStoreOptions) {
    const requestTimeout = opts.requestTimeoutMs ?? 30_000;
    this.client = new InfluxQueryClient(opts.url, { requestTimeoutMs: requestTimeout });
    const { protocol, hostname, port, database, username, password } = this.client.target;
    this.database = database;
    this.retention = normaliseRetention(opts.retention);
    this.batchSize = opts.batchSize ?? 5_000;
    this.concurrency = opts.concurrency ?? 3;
    this.logger = opts.logger;
    this.auth = username !== undefined ? `${username}:${password ?? ''}` : undefined;
    this.writePool = new Pool({ maxRetries: 0, requestTimeout, backoff: shortBackoff() });
    this.writePool.addHost(`${protocol}://${hostname}:${port}`, { agent: this.client.agent });
  }

  async init(): Promise<void> {
    const db = quoteIdent(this.database);
    const rp = quoteIdent(RETENTION_POLICY);
    await this.client.query({ text: `CREATE DATABASE ${db}`, params: {}, what: 'create database' });
    const res = await this.client.query({ text: `SHOW RETENTION POLICIES ON ${db}`, params: {}, what: 'show retention policies' });
    const existing = rowsOf(res).find((r) => r.name === RETENTION_POLICY);
    if (!existing) {
      await this.client.query({ text: `CREATE RETENTION POLICY ${rp} ON ${db} DURATION ${this.retention} REPLICATION 1 DEFAULT`, params: {}, what: 'create retention policy' });
      this.logger?.info({ database: this.database, retention: this.retention }, 'created InfluxDB database and retention policy');
    } else if (durationOf(String(existing.duration)) !== durationOf(this.retention) || existing.default !== true) {
      await this.client.query({ text: `ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${this.retention} DEFAULT`, params: {}, what: 'alter retention policy' });
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
