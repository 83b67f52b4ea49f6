import { EventEmitter } from 'node:events';
import type { Logger } from '../../common/logger.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Counter, Gauge, MetricsRegistry } from '../../common/metrics.ts';
import type { OutboxConsumer, OutboxRecord } from './disk-outbox.ts';
import { ReportLimiter } from '../report-limiter.ts';

export interface DeliveryLoopOptions {
  consumer: OutboxConsumer;
  /** Hands records to the target (reading store, upstream broker); resolves once the target has them. */
  deliver: (records: OutboxRecord[]) => Promise<void>;
  /** Default 500. */
  maxRecordsPerDelivery?: number;
  /** Default 8 MiB of payload. */
  maxBytesPerDelivery?: number;
  /**
   * Deliveries handed to the target before the oldest of them has been acknowledged. Default 1.
   * The cursor still moves strictly in order: past a delivery only once it and every one before it succeeded.
   */
  maxInFlight?: number;
  /**
   * Batching by size and time: when less than a full delivery (maxRecordsPerDelivery or
   * maxBytesPerDelivery) waits, hold it up to this long for more to arrive, or while earlier
   * deliveries are in flight. Default 0: deliver at once.
   */
  lingerMs?: number;
  /** Retry delay after a failure: doubles from initialMs (200) up to maxMs (10,000). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** At most one `error` event per interval while the target stays down. Default 10,000 ms. */
  errorIntervalMs?: number;
  /** Times the linger window and the retry back-off. Default: the system clock. */
  clock?: Clock;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

/** Why a delivery (or reading or committing around it) failed; `cause` is the target's error. */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly consumer: string,
    readonly stage: 'read' | 'deliver' | 'commit',
    /** Consecutive failures so far, this one included. */
    readonly failures: number,
    readonly records: number,
    cause: Error,
  ) {
    super(`${consumer}: ${stage} failed (${failures} in a row, ${records} records waiting): ${cause.message}`, { cause });
  }
}

export interface DeliveryLoopEvents {
  error: [DeliveryError];
}

export interface DeliveryStats {
  healthy: boolean;
  deliveries: number;
  deliveredRecords: number;
  failures: number;
  /** Deliveries handed to the target and not answered yet. */
  inFlight: number;
  lastError?: Error;
}

interface Flight {
  records: OutboxRecord[];
  state: 'flying' | 'done' | 'failed';
  /** Settles (never rejects) when the target has answered. */
  settled: Promise<void>;
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Moves one consumer's records from the outbox to its target, in order. With `maxInFlight` > 1
 * the next deliveries are read and handed over while earlier ones are in flight. A failed
 * delivery stops new ones; once those in flight have settled it is retried with the same
 * records, backing off, until the target takes them. The cursor is committed only past
 * deliveries that succeeded together with every one before them. Never throws: failures are
 * counted, kept in `lastError` and emitted.
 */
export class DeliveryLoop extends EventEmitter<DeliveryLoopEvents> {
  private readonly consumer: OutboxConsumer;
  private readonly deliver: (records: OutboxRecord[]) => Promise<void>;
  private readonly maxRecords: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly reports: ReportLimiter;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly metrics: { records?: Counter; deliveries?: Counter; failures?: Counter; healthy?: Gauge } = {};

  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private committing: Promise<void> = Promise.resolve();
  private consecutiveFailures = 0;

  healthy = true;
  lastError: Error | undefined;
  deliveries = 0;
  deliveredRecords = 0;
  failures = 0;
  /** Deliveries handed to the target and not answered yet. */
  inFlight = 0;

  constructor(opts: DeliveryLoopOptions) {
    super();
    this.consumer = opts.consumer;
    this.deliver = opts.deliver;
    this.maxRecords = opts.maxRecordsPerDelivery ?? 500;
    this.maxBytes = opts.maxBytesPerDelivery ?? 8 * 1024 * 1024;
    this.maxInFlight = Math.max(1, Math.floor(opts.maxInFlight ?? 1));
    this.lingerMs = opts.lingerMs ?? 0;
    this.initialBackoffMs = opts.backoff?.initialMs ?? 200;
    this.maxBackoffMs = opts.backoff?.maxMs ?? 10_000;
    this.reports = new ReportLimiter(opts.errorIntervalMs ?? 10_000);
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    if (opts.metrics) {
      this.metrics.records = opts.metrics.counter('fm_delivery_records_total', 'Outbox records delivered to their target, per consumer.');
      this.metrics.deliveries = opts.metrics.counter('fm_delivery_batches_total', 'Successful deliveries of a batch of outbox records, per consumer.');
      this.metrics.failures = opts.metrics.counter('fm_delivery_failures_total', 'Failed delivery attempts (each is retried), per consumer.');
      this.metrics.healthy = opts.metrics.gauge('fm_delivery_healthy', '1 while the last delivery to the target succeeded, per consumer.');
      this.metrics.healthy.set(1, { consumer: this.consumer.name });
    }
  }

  get name(): string {
    return this.consumer.name;
  }

  stats(): DeliveryStats {
    const s: DeliveryStats = { healthy: this.healthy, deliveries: this.deliveries, deliveredRecords: this.deliveredRecords, failures: this.failures, inFlight: this.inFlight };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  start(): void {
    if (this.running) return;
    const abort = new AbortController();
    this.abort = abort;
    this.running = this.run(abort.signal);
  }

  /** Waits for the deliveries in flight (committing those that succeed, in order); records not delivered stay for the next start. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
    await this.committing;
    this.running = undefined;
    this.abort = undefined;
  }

  private async run(signal: AbortSignal): Promise<void> {
    // Deliveries issued and not yet committed, oldest first; their records run on without a gap.
    const window: Flight[] = [];
    let issuedThrough = this.consumer.cursor;
    let lingerUntil: number | undefined;
    try {
      while (!signal.aborted) {
        this.commitDone(window);
        if (window.some((f) => f.state === 'failed')) {
          // Stop issuing; once the rest has settled, retry what failed, oldest first, then go on.
          await Promise.all(window.map((f) => f.settled));
          this.commitDone(window);
          for (const f of window) {
            while (f.state === 'failed') {
              // No pause when a later delivery has just succeeded: the target is up.
              if (this.consecutiveFailures > 0 && !(await this.clock.sleep(this.backoffMs(), signal))) return;
              this.issue(f);
              await f.settled;
            }
          }
          this.commitDone(window);
          continue;
        }
        if (window.length >= this.maxInFlight) {
          await (window[0] as Flight).settled;
          continue;
        }
        let next: { records: OutboxRecord[]; full: boolean };
        try {
          next = await this.readAfter(issuedThrough, window);
        } catch (err) {
          this.failed('read', 0, err);
          if (!(await this.clock.sleep(this.backoffMs(), signal))) return;
          continue;
        }
        const { records, full } = next;
        if (records.length === 0) {
          lingerUntil = undefined;
          // Records up to issuedThrough are in flight; the cursor is past it when the outbox dropped records.
          await this.waitForMore(signal, Math.max(issuedThrough, this.consumer.cursor), window[0]?.settled);
          continue;
        }
        if (!full && this.lingerMs > 0 && this.consecutiveFailures === 0) {
          // Less than a full delivery waits: it grows while earlier ones are in flight, or for up to lingerMs.
          const readThrough = (records.at(-1) as OutboxRecord).seq;
          if (window.length > 0) {
            await this.waitForMore(signal, readThrough, (window[0] as Flight).settled);
            continue;
          }
          lingerUntil ??= this.clock.now() + this.lingerMs;
          const left = lingerUntil - this.clock.now();
          if (left > 0) {
            await this.waitForMore(signal, readThrough, undefined, left);
            continue;
          }
        }
        lingerUntil = undefined;
        const flight: Flight = { records, state: 'flying', settled: Promise.resolve() };
        issuedThrough = (records.at(-1) as OutboxRecord).seq;
        window.push(flight);
        this.issue(flight);
      }
    } finally {
      // Stopping: wait for what is in flight and commit what the target has, in order.
      await Promise.all(window.map((f) => f.settled));
      this.commitDone(window);
    }
  }

  /**
   * Waits until a record after `seq` is on disk, `settled` has settled, `ms` have passed or the
   * loop stops, whichever comes first.
   */
  private async waitForMore(signal: AbortSignal, seq: number, settled?: Promise<void>, ms?: number): Promise<void> {
    const done = new AbortController();
    const stop = (): void => done.abort();
    signal.addEventListener('abort', stop, { once: true });
    const waits: Promise<unknown>[] = [this.consumer.waitForData(done.signal, seq)];
    if (settled) waits.push(settled);
    if (ms !== undefined) waits.push(this.clock.sleep(ms, done.signal));
    try {
      await Promise.race(waits);
    } finally {
      signal.removeEventListener('abort', stop);
      done.abort();
    }
  }

  /**
   * The next delivery after `issuedThrough`, and whether it is full (more records wait behind it).
   * The outbox reads from the committed cursor, so the records of the deliveries still in the
   * window are read again and skipped; one record more than fits is read to see what waits.
   */
  private async readAfter(issuedThrough: number, window: readonly Flight[]): Promise<{ records: OutboxRecord[]; full: boolean }> {
    let skipRecords = 0;
    let skipBytes = 0;
    for (const f of window) {
      skipRecords += f.records.length;
      for (const r of f.records) skipBytes += r.payload.length;
    }
    const got = await this.consumer.read(this.maxRecords + skipRecords + 1, 2 * this.maxBytes + skipBytes);
    let i = 0;
    while (i < got.length && (got[i] as OutboxRecord).seq <= issuedThrough) i++;
    const records: OutboxRecord[] = [];
    let bytes = 0;
    for (; i < got.length && records.length < this.maxRecords; i++) {
      const r = got[i] as OutboxRecord;
      if (records.length > 0 && bytes + r.payload.length > this.maxBytes) break;
      bytes += r.payload.length;
      records.push(r);
    }
    return { records, full: i < got.length };
  }

  private issue(flight: Flight): void {
    flight.state = 'flying';
    this.inFlight++;
    let delivered: Promise<void>;
    try {
      delivered = this.deliver(flight.records);
    } catch (err) {
      delivered = Promise.reject(err);
    }
    flight.settled = delivered.then(
      () => {
        this.inFlight--;
        flight.state = 'done';
        this.succeeded(flight.records.length);
      },
      (err: unknown) => {
        this.inFlight--;
        flight.state = 'failed';
        this.failed('deliver', flight.records.length, err);
      },
    );
  }

  /** Commits the deliveries at the front of the window that the target has, up to the first that it does not. */
  private commitDone(window: Flight[]): void {
    let seq: number | undefined;
    while (window.length > 0 && (window[0] as Flight).state === 'done') seq = ((window.shift() as Flight).records.at(-1) as OutboxRecord).seq;
    if (seq === undefined) return;
    // The cursor moves at once, so the next read does not wait for the cursor file's fsync.
    this.committing = this.consumer.commit(seq).catch((err: unknown) => this.failed('commit', 0, err, false));
  }

  private backoffMs(): number {
    return Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(30, this.consecutiveFailures - 1));
  }

  private succeeded(records: number): void {
    this.deliveries++;
    this.deliveredRecords += records;
    this.metrics.deliveries?.inc({ consumer: this.consumer.name });
    this.metrics.records?.inc({ consumer: this.consumer.name }, records);
    if (!this.healthy) {
      this.log?.info({ consumer: this.consumer.name, failures: this.consecutiveFailures }, 'delivery target is back');
      this.healthy = true;
      this.metrics.healthy?.set(1, { consumer: this.consumer.name });
    }
    this.consecutiveFailures = 0;
  }

  private failed(stage: DeliveryError['stage'], records: number, err: unknown, targetDown = true): void {
    const cause = toError(err);
    this.failures++;
    this.lastError = cause;
    this.metrics.failures?.inc({ consumer: this.consumer.name });
    if (targetDown) {
      this.consecutiveFailures++;
      this.healthy = false;
      this.metrics.healthy?.set(0, { consumer: this.consumer.name });
    }
    if (this.reports.take() === undefined) return;
    const e = new DeliveryError(this.consumer.name, stage, Math.max(1, this.consecutiveFailures), records || this.consumer.pending, cause);
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.log?.warn({ err: cause, consumer: this.consumer.name, stage, failures: this.consecutiveFailures }, 'delivery failed; retrying');
  }
}
