import { EventEmitter } from 'node:events';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../common/logger.ts';
import type { WhenOutboxFull } from '../../common/site/types.ts';
import type { Counter, MetricsRegistry } from '../../common/metrics.ts';
import { ReportLimiter } from '../report-limiter.ts';
import { ConsumerCursor } from './consumer-cursor.ts';
import { writeCursor } from './cursor-file.ts';
import { lockDir } from './dir-lock.ts';
import { MemoryTail } from './memory-tail.ts';
import { recoverOutbox, type RecoveredOutbox } from './outbox-recovery.ts';
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES, frameBytes, type OutboxRecord } from './record-frame.ts';
import type { Segment } from './segment.ts';
import { SegmentReader, type SegmentDamage } from './segment-reader.ts';
import { SegmentWriter } from './segment-writer.ts';

export type { OutboxRecord } from './record-frame.ts';

export interface DiskOutboxOptions {
  dir: string;
  /** Bound on the bytes of all segment files. */
  maxBytes: number;
  whenFull: WhenOutboxFull;
  /** Named readers, each with its own persistent cursor (e.g. `store`, `upstream`). */
  consumers: string[];
  /** Size at which a segment file is closed and a new one started. Default 16 MiB, at most maxBytes / 4. */
  segmentBytes?: number;
  /** Recently appended records kept in memory for consumers that keep up. Default min(64 MiB, maxBytes). */
  memoryTailBytes?: number;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

export interface OutboxConsumer {
  readonly name: string;
  /**
   * Up to `maxRecords` records after the cursor, oldest first (at least one when any is waiting,
   * even if it alone exceeds `maxBytes`). Reading does not move the cursor: without a commit the
   * next read returns the same records. Only one read of a consumer at a time.
   */
  read(maxRecords: number, maxBytes?: number): Promise<OutboxRecord[]>;
  /**
   * Moves the cursor to `seq` (records up to it are delivered). The next read starts after it at
   * once; the promise resolves when the cursor is on disk, so a restart will not deliver them again.
   */
  commit(seq: number): Promise<void>;
  /**
   * Resolves true as soon as there is a durable record after `after` (default: the cursor); false
   * when aborted or the outbox closes.
   */
  waitForData(signal?: AbortSignal, after?: number): Promise<boolean>;
  /** Last delivered seq (in memory; on disk once commit resolved). */
  readonly cursor: number;
  /** Records after the cursor. */
  readonly pending: number;
}

export interface OutboxConsumerStats {
  cursor: number;
  pendingRecords: number;
  droppedRecords: number;
  /** Exact for whole segments; a share of the segment for a partly delivered one. */
  droppedBytes: number;
}

export interface OutboxStats {
  /** Bytes of the segment files, including records being written. */
  bytes: number;
  segments: number;
  /** Seq of the newest durable record (0: none yet). */
  lastSeq: number;
  appendedRecords: number;
  rejectedRecords: number;
  droppedRecords: number;
  consumers: Record<string, OutboxConsumerStats>;
}

export interface DiskOutboxEvents {
  /** Failures in the background (deleting a segment file, a bad record found while reading). */
  error: [Error];
}

/** append() rejects with this when the outbox is at maxBytes and whenFull is `reject-new`. */
export class OutboxFullError extends Error {
  override readonly name = 'OutboxFullError';
  constructor(
    readonly maxBytes: number,
    readonly recordBytes: number,
  ) {
    super(
      `outbox is full: ${maxBytes} bytes (gateway.outbox.maxBytes) are waiting for the reading store or upstream broker; ` +
        `new readings are refused. Raise gateway.outbox.maxBytes, or set gateway.outbox.whenFull: drop-oldest in the site file to keep the newest readings instead`,
    );
  }
}

interface Consumer {
  cursor: ConsumerCursor;
  reader: SegmentReader;
  handle: OutboxConsumer;
}

const WARN_INTERVAL_MS = 10_000;
const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Durable queue between ingest and the delivery targets (reading store, upstream broker).
 * Records are appended to segment files and acknowledged once fdatasync returns; appends that
 * arrive while a sync runs are written and synced together (group commit). Each consumer reads
 * in seq order from its own cursor; segments every consumer has passed are deleted.
 *
 * The parts: outbox-recovery.ts (what the directory holds at open), segment-writer.ts (appends,
 * group commit, full policy, deletes), memory-tail.ts (the newest records in memory),
 * segment-reader.ts (a consumer behind the memory tail reads the files), consumer-cursor.ts.
 */
export class DiskOutbox extends EventEmitter<DiskOutboxEvents> {
  readonly dir: string;
  readonly maxBytes: number;
  readonly whenFull: WhenOutboxFull;
  readonly segmentBytes: number;
  private readonly log: Logger | undefined;
  private readonly writer: SegmentWriter;
  private readonly tail: MemoryTail;
  private readonly consumers = new Map<string, Consumer>();
  private appendedRecords = 0;
  private rejectedRecords = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly fullReport = new ReportLimiter(WARN_INTERVAL_MS);
  private readonly errorReport = new ReportLimiter(WARN_INTERVAL_MS);
  private readonly counters: { appended?: Counter; rejected?: Counter; dropped?: Counter; droppedBytes?: Counter } = {};

  private constructor(
    opts: DiskOutboxOptions,
    recovered: RecoveredOutbox,
    private readonly dirHandle: FileHandle,
    private readonly unlock: () => Promise<void>,
  ) {
    super();
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.whenFull = opts.whenFull;
    this.segmentBytes = Math.max(FRAME_HEADER_BYTES, Math.min(opts.segmentBytes ?? 16 * 1024 * 1024, Math.floor(opts.maxBytes / 4)));
    this.log = opts.logger;
    this.tail = new MemoryTail(opts.memoryTailBytes ?? Math.min(64 * 1024 * 1024, opts.maxBytes), recovered.nextSeq - 1);
    this.writer = new SegmentWriter({
      dir: opts.dir,
      dirHandle,
      maxBytes: opts.maxBytes,
      whenFull: opts.whenFull,
      segmentBytes: this.segmentBytes,
      segments: recovered.segments,
      nextSeq: recovered.nextSeq,
      ...(opts.logger ? { logger: opts.logger } : {}),
      onDurable: (records) => this.onDurable(records),
      onDropped: (segment) => this.onDropped(segment),
      onError: (err) => this.emitError(err),
    });
    for (const [name, cursor] of recovered.cursors) this.addConsumer(name, cursor);
  }

  static async open(opts: DiskOutboxOptions): Promise<DiskOutbox> {
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 4096) throw new RangeError(`outbox maxBytes must be an integer of at least 4096, got ${opts.maxBytes}`);
    if (opts.whenFull !== 'drop-oldest' && opts.whenFull !== 'reject-new') throw new RangeError(`outbox whenFull must be drop-oldest or reject-new, got ${String(opts.whenFull)}`);
    const names = new Set(opts.consumers);
    if (names.size !== opts.consumers.length) throw new RangeError(`outbox consumers must be unique: ${opts.consumers.join(', ')}`);
    for (const n of names) if (!CONSUMER_NAME.test(n)) throw new RangeError(`outbox consumer name ${JSON.stringify(n)} must match ${CONSUMER_NAME}`);

    await mkdir(opts.dir, { recursive: true });
    const unlock = await lockDir(opts.dir);
    let dirHandle: FileHandle | undefined;
    try {
      dirHandle = await open(opts.dir, 'r');
      const recovered = await recoverOutbox(opts.dir, opts.consumers, opts.logger);
      const outbox = new DiskOutbox(opts, recovered, dirHandle, unlock);
      outbox.collectDelivered();
      await outbox.writer.flush();
      const segments = outbox.writer.segments;
      if (segments.length) {
        opts.logger?.info(
          { dir: opts.dir, segments: segments.length, bytes: outbox.writer.bytes, firstSeq: segments[0]?.firstSeq, lastSeq: outbox.writer.lastSeq },
          'outbox opened with records to deliver',
        );
      }
      if (opts.metrics) outbox.registerMetrics(opts.metrics);
      return outbox;
    } catch (err) {
      await dirHandle?.close();
      await unlock();
      throw err;
    }
  }

  /**
   * Appends one record; resolves with its seq once it is on disk (fdatasync). Rejects with
   * OutboxFullError when full and `reject-new`, or with the I/O error when the write failed.
   * The payload must not be changed afterwards.
   */
  append(payload: Buffer): Promise<number> {
    if (this.closing) return Promise.reject(new Error(`outbox ${this.dir} is closed`));
    const size = frameBytes(payload.length);
    if (payload.length > MAX_PAYLOAD_BYTES || size > this.maxBytes) {
      this.countRejected();
      return Promise.reject(new RangeError(`outbox record of ${payload.length} bytes is larger than the outbox (gateway.outbox.maxBytes ${this.maxBytes})`));
    }
    if (!this.writer.makeRoom(size)) {
      this.countRejected();
      const held = this.fullReport.take();
      if (held !== undefined) {
        this.log?.warn({ maxBytes: this.maxBytes, whenFull: this.whenFull, rejectedRecords: this.rejectedRecords, heldBackReports: held }, 'outbox full: refusing new records until the delivery targets catch up');
      }
      return Promise.reject(new OutboxFullError(this.maxBytes, size));
    }
    return this.writer.append(payload);
  }

  consumer(name: string): OutboxConsumer {
    const c = this.consumers.get(name);
    if (!c) throw new RangeError(`outbox has no consumer ${JSON.stringify(name)}; configured: ${[...this.consumers.keys()].join(', ')}`);
    return c.handle;
  }

  stats(): OutboxStats {
    const consumers: Record<string, OutboxConsumerStats> = {};
    let droppedRecords = 0;
    for (const { cursor: c } of this.consumers.values()) {
      consumers[c.name] = { cursor: c.cursor, pendingRecords: this.writer.recordsAfter(c.cursor), droppedRecords: c.droppedRecords, droppedBytes: c.droppedBytes };
      droppedRecords += c.droppedRecords;
    }
    return {
      bytes: this.writer.bytes,
      segments: this.writer.segments.length,
      lastSeq: this.writer.lastSeq,
      appendedRecords: this.appendedRecords,
      rejectedRecords: this.rejectedRecords,
      droppedRecords,
      consumers,
    };
  }

  /** Writes what was appended, persists cursors, closes files. Later appends reject. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      await this.writer.flush();
      for (const c of this.consumers.values()) {
        await c.cursor.idle();
        c.cursor.wake(false);
        await c.reader.close();
      }
      this.collectDelivered();
      await this.writer.close();
      await this.dirHandle.close();
      await this.unlock();
    })();
    return this.closed;
  }

  private addConsumer(name: string, at: number): void {
    const cursor = new ConsumerCursor(
      name,
      at,
      (seq) => writeCursor(this.dir, this.dirHandle, name, seq),
      () => this.collectDelivered(),
    );
    const reader = new SegmentReader(
      this.writer.segments,
      () => cursor.cursor,
      (damage) => this.onDamage(cursor, damage),
    );
    const writer = this.writer;
    const handle: OutboxConsumer = {
      name,
      read: (maxRecords, maxBytes) => this.read(consumer, maxRecords, maxBytes),
      commit: (seq) => this.commit(cursor, seq),
      waitForData: (signal, after) => this.waitForData(cursor, signal, after),
      get cursor() {
        return cursor.cursor;
      },
      get pending() {
        return writer.recordsAfter(cursor.cursor);
      },
    };
    const consumer: Consumer = { cursor, reader, handle };
    this.consumers.set(name, consumer);
  }

  private registerMetrics(metrics: MetricsRegistry): void {
    const bytes = metrics.gauge('fm_outbox_bytes', 'Bytes of outbox segment files on disk.');
    const pending = metrics.gauge('fm_outbox_pending_records', 'Outbox records a consumer has not delivered yet.');
    this.counters.appended = metrics.counter('fm_outbox_appended_records_total', 'Records appended to the outbox and on disk.');
    this.counters.rejected = metrics.counter('fm_outbox_rejected_total', 'Appends refused because the outbox was full (whenFull: reject-new) or the record too large.');
    this.counters.dropped = metrics.counter('fm_outbox_dropped_records_total', 'Undelivered records deleted to make room (whenFull: drop-oldest), per consumer.');
    this.counters.droppedBytes = metrics.counter('fm_outbox_dropped_bytes_total', 'Undelivered bytes deleted to make room (whenFull: drop-oldest), per consumer.');
    metrics.onCollect(() => {
      bytes.set(this.writer.bytes);
      for (const { cursor: c } of this.consumers.values()) pending.set(this.writer.recordsAfter(c.cursor), { consumer: c.name });
    });
  }

  private countRejected(): void {
    this.rejectedRecords++;
    this.counters.rejected?.inc();
  }

  private minCursor(which: 'cursor' | 'persisted'): number {
    let min = Number.POSITIVE_INFINITY;
    for (const { cursor: c } of this.consumers.values()) min = Math.min(min, c[which]);
    return min;
  }

  private onDurable(records: OutboxRecord[]): void {
    for (const r of records) this.tail.push(r);
    this.appendedRecords += records.length;
    this.counters.appended?.inc({}, records.length);
    this.tail.trim(this.minCursor('cursor'));
    for (const { cursor: c } of this.consumers.values()) c.wake(true);
  }

  private onDropped(seg: Segment): void {
    const records = seg.lastSeq - seg.firstSeq + 1;
    let total = 0;
    for (const { cursor: c } of this.consumers.values()) {
      if (c.cursor >= seg.lastSeq) continue;
      const lost = seg.lastSeq - Math.max(c.cursor, seg.firstSeq - 1);
      const lostBytes = c.cursor < seg.firstSeq ? seg.bytes : Math.round((seg.bytes * lost) / records);
      c.lose(lost, lostBytes, seg.lastSeq);
      total += lost;
      this.counters.dropped?.inc({ consumer: c.name }, lost);
      this.counters.droppedBytes?.inc({ consumer: c.name }, lostBytes);
    }
    this.tail.trim(this.minCursor('cursor'));
    const held = this.fullReport.take();
    if (held !== undefined) {
      const dropped = Object.fromEntries([...this.consumers.values()].map(({ cursor: c }) => [c.name, c.droppedRecords]));
      this.log?.warn(
        { maxBytes: this.maxBytes, segment: seg.path, records: total, droppedRecordsTotal: dropped, heldBackReports: held },
        'outbox full: dropped the oldest undelivered records (gateway.outbox.whenFull: drop-oldest)',
      );
    }
  }

  /** A segment that passed its check at open went bad on disk: the consumer skips the rest of it, counted as dropped. */
  private onDamage(c: ConsumerCursor, { segment, offset, problem, lostRecords }: SegmentDamage): void {
    this.log?.error({ file: segment.path, offset, problem, consumer: c.name, lostRecords }, 'outbox segment is damaged; skipping the rest of it');
    this.emitError(new Error(`outbox segment ${segment.path} is damaged at byte ${offset} (${problem}); ${lostRecords} records skipped for ${c.name}`));
    c.lose(lostRecords, 0, segment.lastSeq);
    this.counters.dropped?.inc({ consumer: c.name }, lostRecords);
  }

  private async read({ cursor: c, reader }: Consumer, maxRecords: number, maxBytes = Number.POSITIVE_INFINITY): Promise<OutboxRecord[]> {
    if (this.closing) throw new Error(`outbox ${this.dir} is closed`);
    if (!(maxRecords >= 1)) throw new RangeError(`maxRecords must be at least 1, got ${maxRecords}`);
    const after = c.cursor;
    if (after >= this.tail.after) return this.tail.read(after, maxRecords, maxBytes);
    return reader.read(after, maxRecords, maxBytes);
  }

  private commit(c: ConsumerCursor, seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq > this.writer.lastSeq) {
      return Promise.reject(new RangeError(`cannot commit seq ${seq} for ${c.name}: the newest record is ${this.writer.lastSeq}`));
    }
    if (c.advance(seq)) this.tail.trim(this.minCursor('cursor'));
    if (seq <= c.persisted) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`outbox ${this.dir} is closed`));
    return c.persist();
  }

  private waitForData(c: ConsumerCursor, signal?: AbortSignal, after = c.cursor): Promise<boolean> {
    if (this.closing || signal?.aborted) return Promise.resolve(false);
    if (after < this.writer.lastSeq) return Promise.resolve(true);
    return c.waitForData(signal);
  }

  /** Deletes segments every consumer has delivered and persisted. */
  private collectDelivered(): void {
    if (this.consumers.size === 0) return;
    this.writer.releaseDelivered(this.minCursor('persisted'));
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') === 0) return;
    if (this.errorReport.take() !== undefined) this.emit('error', err);
  }
}
