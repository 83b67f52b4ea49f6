import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import type { WhenOutboxFull } from '../../common/site/types.ts';
import { FRAME_HEADER_BYTES, frameBytes, writeFrame, type OutboxRecord } from './record-frame.ts';
import { indexFrame, isNotFound, recordsAfter, segmentFileName, toError, type Segment } from './segment.ts';

export interface SegmentWriterOptions {
  dir: string;
  /** The open outbox directory, synced after a new segment file is created. */
  dirHandle: FileHandle;
  maxBytes: number;
  whenFull: WhenOutboxFull;
  segmentBytes: number;
  /** What the directory held at open (sealed segments, oldest first) and the seq to go on from. */
  segments: Segment[];
  nextSeq: number;
  logger?: Logger;
  /** Records just made durable, in seq order; runs before their appends resolve. */
  onDurable: (records: OutboxRecord[]) => void;
  /** A segment deleted to make room (whenFull: drop-oldest); consumers that had not passed it lost records. */
  onDropped: (segment: Segment) => void;
  /** A failed write, fdatasync or delete. */
  onError: (err: Error) => void;
}

interface PendingAppend {
  payload: Buffer;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

/**
 * Appends records to segment files and owns their lifecycle. An append is acknowledged once
 * fdatasync returned; appends that arrive while a sync runs are written and synced together by the
 * next one (group commit). A segment is sealed at `segmentBytes` and a new file started (its
 * directory entry synced too). At `maxBytes` the full policy either refuses or drops the oldest
 * segment. Segments removed (delivered or dropped) are closed and deleted between writes.
 */
export class SegmentWriter {
  /** Oldest first. Shared with the consumers' segment readers. */
  readonly segments: Segment[];
  private active: Segment | undefined;
  /** Sum of `bytes` over `segments`. */
  private segmentsBytes = 0;
  private nextSeq: number;
  private lastDurableSeq: number;
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private readonly toDelete: Segment[] = [];
  private closed = false;
  private readonly log: Logger | undefined;

  constructor(private readonly opts: SegmentWriterOptions) {
    this.segments = opts.segments;
    for (const s of this.segments) this.segmentsBytes += s.bytes;
    this.nextSeq = opts.nextSeq;
    this.lastDurableSeq = this.segments.at(-1)?.lastSeq ?? 0;
    this.log = opts.logger;
  }

  /** Bytes of the segment files, including records being written. */
  get bytes(): number {
    return this.segmentsBytes;
  }

  /** Seq of the newest durable record (0: none yet). */
  get lastSeq(): number {
    return this.lastDurableSeq;
  }

  /** Durable records after `cursor`. */
  recordsAfter(cursor: number): number {
    return recordsAfter(this.segments, cursor);
  }

  /** Queues one record for the next group commit; resolves with its seq once it is on disk. Call makeRoom first. */
  append(payload: Buffer): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ payload, resolve, reject });
      this.pendingBytes += frameBytes(payload.length);
      this.kick();
    });
  }

  /** Frees space for `size` more bytes if whenFull allows; false when the record must be refused. */
  makeRoom(size: number): boolean {
    while (this.segmentsBytes + this.pendingBytes + size > this.opts.maxBytes) {
      if (this.opts.whenFull === 'reject-new') return false;
      const oldest = this.segments[0];
      // Only whole, durable segments go; records still being written are never dropped under their writer.
      if (!oldest || oldest.inFlight || oldest.lastSeq < oldest.firstSeq) return false;
      if (oldest === this.active) {
        oldest.sealed = true;
        this.active = undefined;
      }
      this.remove(oldest);
      this.opts.onDropped(oldest);
      this.kick();
    }
    return true;
  }

  /** Deletes the segments whose records are all at or before `seq` (every consumer has delivered them). */
  releaseDelivered(seq: number): void {
    let removed = false;
    for (;;) {
      const seg = this.segments[0];
      if (!seg || seg === this.active || seg.inFlight || seg.lastSeq > seq) break;
      this.remove(seg);
      removed = true;
    }
    if (removed && !this.closed) this.kick();
  }

  /** Resolves when everything appended so far is written (or refused) and removed segments are deleted. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Finishes writing and deleting, then closes the segment files. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.housekeep();
    for (const s of this.segments) {
      await s.fh?.close().catch(() => undefined);
      s.fh = undefined;
    }
  }

  private remove(seg: Segment): void {
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
        this.opts.onError(toError(err));
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
      path: join(this.opts.dir, segmentFileName(this.nextSeq)),
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
      if (!seg || seg.sealed || (seg.bytes > 0 && seg.bytes + size > this.opts.segmentBytes)) {
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
      if (created) await this.opts.dirHandle.sync();
    } catch (err) {
      await this.failRun(seg, appends, bytes, toError(err));
      return;
    } finally {
      seg.inFlight = false;
    }
    const base = seg.durableBytes;
    const records = new Array<OutboxRecord>(appends.length);
    for (let i = 0; i < appends.length; i++) {
      const offset = offsets[i] as number;
      const seq = firstSeq + i;
      indexFrame(seg, seq, base + offset);
      records[i] = { seq, payload: buf.subarray(offset + FRAME_HEADER_BYTES, (offsets[i + 1] ?? buf.length) as number) };
    }
    seg.durableBytes += buf.length;
    seg.lastSeq = firstSeq + appends.length - 1;
    this.lastDurableSeq = seg.lastSeq;
    this.opts.onDurable(records);
    if (seg.sealed && seg.fh && !seg.inFlight) {
      const fh = seg.fh;
      seg.fh = undefined;
      await fh.close().catch(() => undefined);
    }
    for (let i = 0; i < appends.length; i++) (appends[i] as PendingAppend).resolve(firstSeq + i);
  }

  private async failRun(seg: Segment, appends: PendingAppend[], bytes: number, err: Error): Promise<void> {
    // After a failed write or fdatasync the file's tail is unknown (the kernel may have dropped the
    // pages): cut it back to what was synced and write on in a fresh segment.
    seg.bytes -= bytes;
    this.segmentsBytes -= bytes;
    seg.sealed = true;
    if (this.active === seg) this.active = undefined;
    await seg.fh?.truncate(seg.durableBytes).catch(() => undefined);
    if (seg.durableBytes === 0) this.remove(seg);
    this.log?.error({ err, file: seg.path, records: appends.length }, 'outbox write failed; refusing these records');
    this.opts.onError(err);
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
          this.opts.onError(toError(err));
        }
      }
    }
  }
}
