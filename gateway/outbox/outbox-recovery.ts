import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.ts';
import { readCursor } from './cursor-file.ts';
import { FRAME_HEADER_BYTES, scanFrames } from './record-frame.ts';
import { SEGMENT_FILE, indexFrame, type Segment } from './segment.ts';

export interface RecoveredOutbox {
  /** Each consumer's stored cursor; 0 when it has none or it is unreadable. */
  cursors: Map<string, number>;
  /** Segments with at least one good record, oldest first, all sealed. */
  segments: Segment[];
  /** Seq of the newest durable record (0: none). */
  lastSeq: number;
  /** Seq the next append gets. */
  nextSeq: number;
}

/**
 * Finds what an outbox directory holds after a stop or a crash: the consumers' cursors and the
 * segment files, each checked frame by frame, a torn tail cut off, and indexed for seeking.
 * Leftover temporary files (an interrupted cursor replace) are removed.
 */
export async function recoverOutbox(dir: string, consumers: readonly string[], log?: Logger): Promise<RecoveredOutbox> {
  const cursors = new Map<string, number>();
  let maxCursor = 0;
  for (const name of consumers) {
    let cursor = 0;
    try {
      cursor = (await readCursor(dir, name)) ?? 0;
    } catch (err) {
      // Starting over redelivers (the targets are idempotent); guessing ahead would lose readings.
      log?.error({ err, consumer: name }, 'outbox cursor unreadable; delivering this consumer from the oldest record');
    }
    maxCursor = Math.max(maxCursor, cursor);
    cursors.set(name, cursor);
  }

  const files = (await readdir(dir)).sort();
  for (const f of files) if (f.endsWith('.tmp')) await unlink(join(dir, f)).catch(() => undefined);
  const segments: Segment[] = [];
  for (const f of files.filter((name) => SEGMENT_FILE.test(name))) {
    const seg = await recoverSegment(join(dir, f), Number.parseInt(f, 10), log);
    if (!seg) continue;
    const prev = segments.at(-1);
    if (prev && seg.firstSeq <= prev.lastSeq) {
      log?.error({ file: seg.path, firstSeq: seg.firstSeq, previousLastSeq: prev.lastSeq }, 'outbox segment overlaps the one before it; leaving it out');
      continue;
    }
    segments.push(seg);
  }
  const lastSeq = segments.at(-1)?.lastSeq ?? 0;
  // Seqs only grow, also when every segment is gone, so a cursor never points past new records.
  return { cursors, segments, lastSeq, nextSeq: Math.max(lastSeq, maxCursor) + 1 };
}

/** The segment's good records; undefined (and the file deleted) when it has none. */
async function recoverSegment(path: string, firstSeq: number, log?: Logger): Promise<Segment | undefined> {
  const buf = await readFile(path);
  const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, bytes: 0, durableBytes: 0, path, index: [], sealed: true, inFlight: false };
  const scan = scanFrames(buf, 0, firstSeq, (seq, payloadStart) => indexFrame(seg, seq, payloadStart - FRAME_HEADER_BYTES));
  if (scan.end < buf.length) {
    // A torn tail: the write was never acknowledged (its fdatasync did not return), so it is not ours to keep.
    log?.warn({ file: path, validBytes: scan.end, droppedBytes: buf.length - scan.end, lastSeq: scan.lastSeq, reason: scan.problem }, 'outbox segment has a torn tail; truncating it');
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
