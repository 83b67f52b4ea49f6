import type { FileHandle } from 'node:fs/promises';

/** One segment file, `{first seq, 20 digits}.seg`: frames with consecutive seqs. */
export interface Segment {
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

export const SEGMENT_FILE = /^\d{20}\.seg$/;
export const INDEX_EVERY_BYTES = 1024 * 1024;

export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}.seg`;
}

/** Adds an index mark for the frame at `offset` when the last mark is far enough behind it. */
export function indexFrame(seg: Segment, seq: number, offset: number): void {
  if (offset - (seg.index.at(-1)?.offset ?? -INDEX_EVERY_BYTES) >= INDEX_EVERY_BYTES) seg.index.push({ seq, offset });
}

/** Records of the segments after `cursor`. */
export function recordsAfter(segments: readonly Segment[], cursor: number): number {
  let n = 0;
  for (const s of segments) if (s.lastSeq > cursor) n += s.lastSeq - Math.max(cursor, s.firstSeq - 1);
  return n;
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
