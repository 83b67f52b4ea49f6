import { EventEmitter } from 'node:events';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import type { WhenOutboxFull } from '../../common/site/types.ts';
import type { Counter, MetricsRegistry } from '../../common/metrics.ts';
import { CoalescedWrite, readCursor, writeCursor } from './cursor-file.ts';
import { lockDir } from './dir-lock.ts';
import { ReportLimiter } from '../report-limiter.ts';
import { FRAME_HEADER_BYTES, MAX_PAYLOAD_BYTES, frameBytes, scanFrames, writeFrame } from './record-frame.ts';

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

export interface OutboxRecord {
  seq: number;
  payload: Buffer;
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
  /** Resolves true as soon as there is a record after the cursor; false when aborted or the outbox closes. */
  waitForData(signal?: AbortSignal): Promise<boolean>;
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

interface Segment {
  firstSeq: number;
  /** Seq of the last durable record; firstSeq - 1 while there is none. */
  lastSeq: number;
  /** File size including frames being written. */
  bytes: number;
  /** File size up to the last fdatasync. */
  durableBytes: number;
  path: string;
  fh?: FileHandle;
  /** Every ~1 MiB: seq of the frame starting at offset, for seeking without a full scan. */
  index: { seq: number; offset: number }[];
  /** No more writes: a newer segment is the active one, or a write to it failed. */
  sealed: boolean;
  /** Written to right now. */
  inFlight: boolean;
}

interface PendingAppend {
  payload: Buffer;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

interface DiskReader {
  segment: Segment;
  fh: FileHandle;
  offset: number;
  nextSeq: number;
}

interface ConsumerState {
  name: string;
  /** Delivered up to here (in memory). */
  cursor: number;
  /** Delivered up to here (on disk). */
  persisted: number;
  droppedRecords: number;
  droppedBytes: number;
  persist: CoalescedWrite;
  reader?: DiskReader;
  waiters: Set<(data: boolean) => void>;
  handle: OutboxConsumer;
}

const SEGMENT_SUFFIX = '.seg';
const INDEX_EVERY_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;
const WARN_INTERVAL_MS = 10_000;
const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Durable queue between ingest and the delivery targets (reading store, upstream broker).
 * Records are appended to segment files and acknowledged once fdatasync returns; appends that
 * arrive while a sync runs are written and synced together (group commit). Each consumer reads
 * in seq order from its own cursor; segments every consumer has passed are deleted.
 */
export class DiskOutbox extends EventEmitter<DiskOutboxEvents> {
  readonly dir: string;
  readonly maxBytes: number;
  readonly whenFull: WhenOutboxFull;
  readonly segmentBytes: number;
  private readonly memoryTailBytes: number;
  private readonly log: Logger | undefined;

  private readonly segments: Segment[] = [];
  private active: Segment | undefined;
  /** Sum of `bytes` over `segments`. */
  private segmentsBytes = 0;
  private nextSeq = 1;
  private lastDurableSeq = 0;

  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private readonly toDelete: Segment[] = [];

  /** Durable records with seq > tailAfter, oldest first from tailHead. */
  private tail: OutboxRecord[] = [];
  private tailHead = 0;
  private tailBytes = 0;
  private tailAfter = 0;

  private readonly consumers = new Map<string, ConsumerState>();
  private appendedRecords = 0;
  private rejectedRecords = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly fullReport = new ReportLimiter(WARN_INTERVAL_MS);
  private readonly errorReport = new ReportLimiter(WARN_INTERVAL_MS);
  private readonly counters: {
    appended?: Counter;
    rejected?: Counter;
    dropped?: Counter;
    droppedBytes?: Counter;
  } = {};

  private constructor(
    opts: DiskOutboxOptions,
    private readonly dirHandle: FileHandle,
    private readonly unlock: () => Promise<void>,
  ) {
    super();
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.whenFull = opts.whenFull;
    this.segmentBytes = Math.max(FRAME_HEADER_BYTES, Math.min(opts.segmentBytes ?? 16 * 1024 * 1024, Math.floor(opts.maxBytes / 4)));
    this.memoryTailBytes = opts.memoryTailBytes ?? Math.min(64 * 1024 * 1024, opts.maxBytes);
    this.log = opts.logger;
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
      const outbox = new DiskOutbox(opts, dirHandle, unlock);
      await outbox.load(opts.consumers);
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
    if (!this.makeRoom(size)) {
      this.countRejected();
      const held = this.fullReport.take();
      if (held !== undefined) {
        this.log?.warn({ maxBytes: this.maxBytes, whenFull: this.whenFull, rejectedRecords: this.rejectedRecords, heldBackReports: held }, 'outbox full: refusing new records until the delivery targets catch up');
      }
      return Promise.reject(new OutboxFullError(this.maxBytes, size));
    }
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ payload, resolve, reject });
      this.pendingBytes += size;
      this.kick();
    });
  }

  consumer(name: string): OutboxConsumer {
    const c = this.consumers.get(name);
    if (!c) throw new RangeError(`outbox has no consumer ${JSON.stringify(name)}; configured: ${[...this.consumers.keys()].join(', ')}`);
    return c.handle;
  }

  stats(): OutboxStats {
    const consumers: Record<string, OutboxConsumerStats> = {};
    let droppedRecords = 0;
    for (const c of this.consumers.values()) {
      consumers[c.name] = { cursor: c.cursor, pendingRecords: this.pendingAfter(c.cursor), droppedRecords: c.droppedRecords, droppedBytes: c.droppedBytes };
      droppedRecords += c.droppedRecords;
    }
    return {
      bytes: this.segmentsBytes,
      segments: this.segments.length,
      lastSeq: this.lastDurableSeq,
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
      while (this.flushing) await this.flushing;
      for (const c of this.consumers.values()) {
        await c.persist.idle();
        for (const w of c.waiters) w(false);
        c.waiters.clear();
        await c.reader?.fh.close().catch(() => undefined);
        c.reader = undefined;
      }
      this.collectDelivered();
      await this.housekeep();
      for (const s of this.segments) {
        await s.fh?.close().catch(() => undefined);
        s.fh = undefined;
      }
      await this.dirHandle.close();
      await this.unlock();
    })();
    return this.closed;
  }

  // ---- opening

  private async load(consumerNames: string[]): Promise<void> {
    let maxCursor = 0;
    for (const name of consumerNames) {
      let cursor = 0;
      try {
        cursor = (await readCursor(this.dir, name)) ?? 0;
      } catch (err) {
        // Starting over redelivers (the targets are idempotent); guessing ahead would lose readings.
        this.log?.error({ err, consumer: name }, 'outbox cursor unreadable; delivering this consumer from the oldest record');
      }
      maxCursor = Math.max(maxCursor, cursor);
      this.addConsumer(name, cursor);
    }

    const files = (await readdir(this.dir)).sort();
    for (const f of files) if (f.endsWith('.tmp')) await unlink(join(this.dir, f)).catch(() => undefined);
    const segFiles = files.filter((f) => /^\d{20}\.seg$/.test(f));
    for (const f of segFiles) {
      const seg = await this.loadSegment(join(this.dir, f), Number.parseInt(f, 10));
      if (!seg) continue;
      const prev = this.segments.at(-1);
      if (prev && seg.firstSeq <= prev.lastSeq) {
        this.log?.error({ file: seg.path, firstSeq: seg.firstSeq, previousLastSeq: prev.lastSeq }, 'outbox segment overlaps the one before it; leaving it out');
        continue;
      }
      this.segments.push(seg);
      this.segmentsBytes += seg.bytes;
    }
    const last = this.segments.at(-1);
    this.lastDurableSeq = last ? last.lastSeq : 0;
    // Seqs only grow, also when every segment is gone, so a cursor never points past new records.
    this.nextSeq = Math.max(this.lastDurableSeq, maxCursor) + 1;
    this.tailAfter = this.nextSeq - 1;
    this.collectDelivered();
    while (this.flushing) await this.flushing;
    if (this.segments.length) {
      this.log?.info({ dir: this.dir, segments: this.segments.length, bytes: this.segmentsBytes, firstSeq: this.segments[0]?.firstSeq, lastSeq: this.lastDurableSeq }, 'outbox opened with records to deliver');
    }
  }

  private async loadSegment(path: string, firstSeq: number): Promise<Segment | undefined> {
    const buf = await readFile(path);
    const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, bytes: 0, durableBytes: 0, path, index: [], sealed: true, inFlight: false };
    let indexed = -INDEX_EVERY_BYTES;
    const scan = scanFrames(buf, 0, firstSeq, (seq, payloadStart) => {
      const offset = payloadStart - FRAME_HEADER_BYTES;
      if (offset - indexed >= INDEX_EVERY_BYTES) {
        seg.index.push({ seq, offset });
        indexed = offset;
      }
    });
    if (scan.end < buf.length) {
      // A torn tail: the write was never acknowledged (its fdatasync did not return), so it is not ours to keep.
      this.log?.warn({ file: path, validBytes: scan.end, droppedBytes: buf.length - scan.end, lastSeq: scan.lastSeq, reason: scan.problem }, 'outbox segment has a torn tail; truncating it');
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.end);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    if (scan.lastSeq < firstSeq) {
      await unlink(path);
      return undefined;
    }
    seg.lastSeq = scan.lastSeq;
    seg.bytes = seg.durableBytes = scan.end;
    return seg;
  }

  private addConsumer(name: string, cursor: number): void {
    const state: ConsumerState = {
      name,
      cursor,
      persisted: cursor,
      droppedRecords: 0,
      droppedBytes: 0,
      persist: new CoalescedWrite(async () => {
        const seq = state.cursor;
        await writeCursor(this.dir, this.dirHandle, name, seq);
        state.persisted = Math.max(state.persisted, seq);
        this.collectDelivered();
      }),
      waiters: new Set(),
      handle: undefined as unknown as OutboxConsumer,
    };
    const outbox = this;
    state.handle = {
      name,
      read: (maxRecords, maxBytes) => this.read(state, maxRecords, maxBytes),
      commit: (seq) => this.commit(state, seq),
      waitForData: (signal) => this.waitForData(state, signal),
      get cursor() {
        return state.cursor;
      },
      get pending() {
        return outbox.pendingAfter(state.cursor);
      },
    };
    this.consumers.set(name, state);
  }

  private registerMetrics(metrics: MetricsRegistry): void {
    const bytes = metrics.gauge('fm_outbox_bytes', 'Bytes of outbox segment files on disk.');
    const pending = metrics.gauge('fm_outbox_pending_records', 'Outbox records a consumer has not delivered yet.');
    this.counters.appended = metrics.counter('fm_outbox_appended_records_total', 'Records appended to the outbox and on disk.');
    this.counters.rejected = metrics.counter('fm_outbox_rejected_total', 'Appends refused because the outbox was full (whenFull: reject-new) or the record too large.');
    this.counters.dropped = metrics.counter('fm_outbox_dropped_records_total', 'Undelivered records deleted to make room (whenFull: drop-oldest), per consumer.');
    this.counters.droppedBytes = metrics.counter('fm_outbox_dropped_bytes_total', 'Undelivered bytes deleted to make room (whenFull: drop-oldest), per consumer.');
    metrics.onCollect(() => {
      bytes.set(this.segmentsBytes);
      for (const c of this.consumers.values()) pending.set(this.pendingAfter(c.cursor), { consumer: c.name });
    });
  }

  // ---- appending

  private countRejected(): void {
    this.rejectedRecords++;
    this.counters.rejected?.inc();
  }

  /** Frees space for `size` more bytes if whenFull allows; false when the record must be refused. */
  private makeRoom(size: number): boolean {
    while (this.segmentsBytes + this.pendingBytes + size > this.maxBytes) {
      if (this.whenFull === 'reject-new') return false;
      const oldest = this.segments[0];
      // Only whole, durable segments go; records still being written are never dropped under their writer.
      if (!oldest || oldest.inFlight || oldest.lastSeq < oldest.firstSeq) return false;
      if (oldest === this.active) {
        oldest.sealed = true;
        this.active = undefined;
      }
      this.dropSegment(oldest);
    }
    return true;
  }

  private dropSegment(seg: Segment): void {
    this.removeSegment(seg);
    const records = seg.lastSeq - seg.firstSeq + 1;
    let total = 0;
    for (const c of this.consumers.values()) {
      if (c.cursor >= seg.lastSeq) continue;
      const lost = seg.lastSeq - Math.max(c.cursor, seg.firstSeq - 1);
      const lostBytes = c.cursor < seg.firstSeq ? seg.bytes : Math.round((seg.bytes * lost) / records);
      c.droppedRecords += lost;
      c.droppedBytes += lostBytes;
      c.cursor = seg.lastSeq;
      total += lost;
      this.counters.dropped?.inc({ consumer: c.name }, lost);
      this.counters.droppedBytes?.inc({ consumer: c.name }, lostBytes);
    }
    this.trimTail();
    const held = this.fullReport.take();
    if (held !== undefined) {
      const dropped = Object.fromEntries([...this.consumers.values()].map((c) => [c.name, c.droppedRecords]));
      this.log?.warn(
        { maxBytes: this.maxBytes, segment: seg.path, records: total, droppedRecordsTotal: dropped, heldBackReports: held },
        'outbox full: dropped the oldest undelivered records (gateway.outbox.whenFull: drop-oldest)',
      );
    }
    this.kick();
  }

  private removeSegment(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.segmentsBytes -= seg.bytes;
    this.toDelete.push(seg);
  }

  private kick(): void {
    if (this.flushing) return;
    // A microtask, not a timer: an idle outbox writes at once, and appends made in the same tick share the sync.
    this.flushing = Promise.resolve()
      .then(() => this.flushLoop())
      .catch((err: unknown) => {
        this.log?.error({ err }, 'outbox writer failed');
        this.emitError(toError(err));
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.length || this.toDelete.length) this.kick();
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length || this.toDelete.length) {
      if (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        await this.writeBatch(batch);
      }
      await this.housekeep();
    }
  }

  private newSegment(): Segment {
    const seg: Segment = {
      firstSeq: this.nextSeq,
      lastSeq: this.nextSeq - 1,
      bytes: 0,
      durableBytes: 0,
      path: join(this.dir, segmentName(this.nextSeq)),
      index: [],
      sealed: false,
      inFlight: false,
    };
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    // Seqs are given here, in append order, so a failed write leaves no gap inside a segment.
    const runs: { seg: Segment; appends: PendingAppend[]; firstSeq: number; bytes: number }[] = [];
    let run: (typeof runs)[number] | undefined;
    for (const a of batch) {
      const size = frameBytes(a.payload.length);
      let seg = this.active;
      if (!seg || seg.sealed || (seg.bytes > 0 && seg.bytes + size > this.segmentBytes)) {
        if (seg) seg.sealed = true;
        seg = this.newSegment();
      }
      if (run?.seg !== seg) {
        run = { seg, appends: [], firstSeq: this.nextSeq, bytes: 0 };
        runs.push(run);
        seg.inFlight = true;
      }
      run.appends.push(a);
      run.bytes += size;
      seg.bytes += size;
      this.segmentsBytes += size;
      this.pendingBytes -= size;
      this.nextSeq++;
    }
    for (const r of runs) await this.writeRun(r.seg, r.appends, r.firstSeq, r.bytes);
  }

  private async writeRun(seg: Segment, appends: PendingAppend[], firstSeq: number, bytes: number): Promise<void> {
    const buf = Buffer.allocUnsafe(bytes);
    const offsets = new Array<number>(appends.length);
    let pos = 0;
    for (let i = 0; i < appends.length; i++) {
      offsets[i] = pos;
      pos = writeFrame(buf, pos, firstSeq + i, (appends[i] as PendingAppend).payload);
    }
    try {
      let created = false;
      if (!seg.fh) {
        seg.fh = await open(seg.path, 'a');
        created = true;
      }
      for (let done = 0; done < buf.length; ) done += (await seg.fh.write(buf, done, buf.length - done)).bytesWritten;
      await seg.fh.datasync();
      // The new file's directory entry must be durable too, or a power loss could take the whole segment.
      if (created) await this.dirHandle.sync();
    } catch (err) {
      await this.failRun(seg, appends, bytes, toError(err));
      return;
    } finally {
      seg.inFlight = false;
    }
    const base = seg.durableBytes;
    for (let i = 0; i < appends.length; i++) {
      const offset = offsets[i] as number;
      const seq = firstSeq + i;
      const payload = buf.subarray(offset + FRAME_HEADER_BYTES, (offsets[i + 1] ?? buf.length) as number);
      if (base + offset - (seg.index.at(-1)?.offset ?? -INDEX_EVERY_BYTES) >= INDEX_EVERY_BYTES) seg.index.push({ seq, offset: base + offset });
      this.tail.push({ seq, payload });
      this.tailBytes += payload.length;
    }
    seg.durableBytes += buf.length;
    seg.lastSeq = firstSeq + appends.length - 1;
    this.lastDurableSeq = seg.lastSeq;
    this.appendedRecords += appends.length;
    this.counters.appended?.inc({}, appends.length);
    if (seg.sealed && seg.fh && !seg.inFlight) {
      const fh = seg.fh;
      seg.fh = undefined;
      await fh.close().catch(() => undefined);
    }
    this.trimTail();
    for (let i = 0; i < appends.length; i++) (appends[i] as PendingAppend).resolve(firstSeq + i);
    for (const c of this.consumers.values()) {
      for (const w of c.waiters) w(true);
      c.waiters.clear();
    }
  }

  private async failRun(seg: Segment, appends: PendingAppend[], bytes: number, err: Error): Promise<void> {
    // After a failed write or fdatasync the file's tail is unknown (the kernel may have dropped the
    // pages): cut it back to what was synced and write on in a fresh segment.
    seg.bytes -= bytes;
    this.segmentsBytes -= bytes;
    seg.sealed = true;
    if (this.active === seg) this.active = undefined;
    await seg.fh?.truncate(seg.durableBytes).catch(() => undefined);
    if (seg.durableBytes === 0) this.removeSegment(seg);
    this.log?.error({ err, file: seg.path, records: appends.length }, 'outbox write failed; refusing these records');
    this.emitError(err);
    for (const a of appends) a.reject(err);
  }

  /** Closes and deletes removed segments. Runs inside the flush loop, so never under a write. */
  private async housekeep(): Promise<void> {
    while (this.toDelete.length) {
      const seg = this.toDelete.shift() as Segment;
      const fh = seg.fh;
      seg.fh = undefined;
      await fh?.close().catch(() => undefined);
      try {
        await unlink(seg.path);
      } catch (err) {
        if (!isNotFound(err)) {
          this.log?.error({ err, file: seg.path }, 'outbox could not delete a segment file');
          this.emitError(toError(err));
        }
      }
    }
  }

  // ---- consuming

  private pendingAfter(cursor: number): number {
    let n = 0;
    for (const s of this.segments) if (s.lastSeq > cursor) n += s.lastSeq - Math.max(cursor, s.firstSeq - 1);
    return n;
  }

  private trimTail(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const c of this.consumers.values()) min = Math.min(min, c.cursor);
    const tail = this.tail;
    while (this.tailHead < tail.length) {
      const r = tail[this.tailHead] as OutboxRecord;
      if (r.seq > min && this.tailBytes <= this.memoryTailBytes) break;
      this.tailBytes -= r.payload.length;
      this.tailAfter = r.seq;
      this.tailHead++;
    }
    if (this.tailHead > 4096 && this.tailHead * 2 > tail.length) {
      this.tail = tail.slice(this.tailHead);
      this.tailHead = 0;
    }
  }

  private async read(c: ConsumerState, maxRecords: number, maxBytes = Number.POSITIVE_INFINITY): Promise<OutboxRecord[]> {
    if (this.closing) throw new Error(`outbox ${this.dir} is closed`);
    if (!(maxRecords >= 1)) throw new RangeError(`maxRecords must be at least 1, got ${maxRecords}`);
    const after = c.cursor;
    if (after >= this.tailAfter) return this.readTail(after, maxRecords, maxBytes);
    return this.readDisk(c, after, maxRecords, maxBytes);
  }

  private readTail(after: number, maxRecords: number, maxBytes: number): OutboxRecord[] {
    const tail = this.tail;
    let lo = this.tailHead;
    let hi = tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((tail[mid] as OutboxRecord).seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: OutboxRecord[] = [];
    let bytes = 0;
    for (let i = lo; i < tail.length && out.length < maxRecords; i++) {
      const r = tail[i] as OutboxRecord;
      if (out.length > 0 && bytes + r.payload.length > maxBytes) break;
      bytes += r.payload.length;
      out.push(r);
    }
    return out;
  }

  private async readDisk(c: ConsumerState, after: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    for (;;) {
      const seg = this.segments.find((s) => s.lastSeq > after);
      if (!seg) {
        await this.closeReader(c);
        return [];
      }
      try {
        const out = await this.readSegment(c, seg, after, maxRecords, maxBytes);
        if (out.length === 0 && c.cursor === after && c.reader) this.skipDamage(c, seg, c.reader, 'records missing');
        return out;
      } catch (err) {
        await this.closeReader(c);
        // Deleted under us (dropped to make room, or delivered by every consumer): look again.
        if (isNotFound(err) && !this.segments.includes(seg)) continue;
        throw err;
      }
    }
  }

  private async closeReader(c: ConsumerState): Promise<void> {
    const r = c.reader;
    c.reader = undefined;
    await r?.fh.close().catch(() => undefined);
  }

  private async readSegment(c: ConsumerState, seg: Segment, after: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    let r = c.reader;
    if (r?.segment !== seg) {
      await this.closeReader(c);
      r = c.reader = { segment: seg, fh: await open(seg.path, 'r'), offset: 0, nextSeq: seg.firstSeq };
    }
    let mark = { seq: seg.firstSeq, offset: 0 };
    for (const m of seg.index) {
      if (m.seq > after + 1) break;
      mark = m;
    }
    if (r.nextSeq > after + 1 || mark.seq > r.nextSeq) {
      r.offset = mark.offset;
      r.nextSeq = mark.seq;
    }
    const out: OutboxRecord[] = [];
    let bytes = 0;
    let need = READ_CHUNK_BYTES;
    while (out.length < maxRecords && r.offset < seg.durableBytes) {
      const want = Math.min(seg.durableBytes - r.offset, Math.max(need, READ_CHUNK_BYTES));
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await r.fh.read(buf, got, want - got, r.offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      const chunk = buf.subarray(0, got);
      let full = false;
      const scan = scanFrames(chunk, 0, r.nextSeq, (seq, start, end) => {
        if (seq > after) {
          if (out.length >= maxRecords || (out.length > 0 && bytes + end - start > maxBytes)) {
            full = true;
            return false;
          }
          bytes += end - start;
          out.push({ seq, payload: chunk.subarray(start, end) });
        }
      });
      r.offset += scan.end;
      r.nextSeq = scan.lastSeq + 1;
      if (full) break;
      const partial = chunk.subarray(scan.end);
      // Durable bytes end on a frame boundary: a frame cut by the chunk is read whole next time, anything else is damage.
      if (scan.problem === 'incomplete' && got === want && r.offset + partial.length < seg.durableBytes) {
        need = partial.length >= FRAME_HEADER_BYTES ? frameBytes(partial.readUInt32LE(4)) : FRAME_HEADER_BYTES;
        continue;
      }
      if (scan.problem || got < want) {
        this.skipDamage(c, seg, r, scan.problem ?? 'file shorter than expected');
        break;
      }
      need = READ_CHUNK_BYTES;
    }
    return out;
  }

  /**
   * A segment that passed its check at open went bad on disk. Frames cannot be found again after a
   * bad one, so this consumer skips to the end of the segment and counts the skipped records as dropped.
   */
  private skipDamage(c: ConsumerState, seg: Segment, r: DiskReader, problem: string): void {
    const lost = Math.max(0, seg.lastSeq - Math.max(c.cursor, r.nextSeq - 1));
    this.log?.error({ file: seg.path, offset: r.offset, problem, consumer: c.name, lostRecords: lost }, 'outbox segment is damaged; skipping the rest of it');
    this.emitError(new Error(`outbox segment ${seg.path} is damaged at byte ${r.offset} (${problem}); ${lost} records skipped for ${c.name}`));
    c.droppedRecords += lost;
    this.counters.dropped?.inc({ consumer: c.name }, lost);
    c.cursor = Math.max(c.cursor, seg.lastSeq);
    r.offset = seg.durableBytes;
    r.nextSeq = seg.lastSeq + 1;
  }

  private commit(c: ConsumerState, seq: number): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq > this.lastDurableSeq) {
      return Promise.reject(new RangeError(`cannot commit seq ${seq} for ${c.name}: the newest record is ${this.lastDurableSeq}`));
    }
    if (seq > c.cursor) {
      c.cursor = seq;
      this.trimTail();
    }
    if (seq <= c.persisted) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`outbox ${this.dir} is closed`));
    return c.persist.request();
  }

  private waitForData(c: ConsumerState, signal?: AbortSignal): Promise<boolean> {
    if (this.closing || signal?.aborted) return Promise.resolve(false);
    if (c.cursor < this.lastDurableSeq) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (data: boolean): void => {
        c.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(data);
      };
      const onAbort = (): void => done(false);
      c.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Deletes segments every consumer has delivered and persisted. */
  private collectDelivered(): void {
    if (this.consumers.size === 0) return;
    let min = Number.POSITIVE_INFINITY;
    for (const c of this.consumers.values()) min = Math.min(min, c.persisted);
    let removed = false;
    for (;;) {
      const seg = this.segments[0];
      if (!seg || seg === this.active || seg.inFlight || seg.lastSeq > min) break;
      this.removeSegment(seg);
      removed = true;
    }
    if (removed && !this.closing) this.kick();
  }

  private emitError(err: Error): void {
    if (this.listenerCount('error') === 0) return;
    if (this.errorReport.take() !== undefined) this.emit('error', err);
  }
}
