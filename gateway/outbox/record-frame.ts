import { crc32 } from 'node:zlib';

/**
 * One outbox record on disk:
 *
 *   u32le crc32 of everything after it (length, seq, payload)
 *   u32le payload length
 *   u32le seq, low 32 bits
 *   u32le seq, high bits
 *   payload
 *
 * The CRC covers the length and the sequence number, so a torn or zero-filled tail (SIGKILL,
 * power loss) never passes for a record.
 */
export const FRAME_HEADER_BYTES = 16;

/** An outbox record: its sequence number and the payload appended. */
export interface OutboxRecord {
  seq: number;
  payload: Buffer;
}

/** Larger lengths can only be garbage. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

const TWO_32 = 2 ** 32;

export function frameBytes(payloadLength: number): number {
  return FRAME_HEADER_BYTES + payloadLength;
}

/** Writes one frame at `offset`; returns the offset after it. */
export function writeFrame(target: Buffer, offset: number, seq: number, payload: Buffer): number {
  target.writeUInt32LE(payload.length, offset + 4);
  target.writeUInt32LE(seq % TWO_32, offset + 8);
  target.writeUInt32LE(Math.floor(seq / TWO_32), offset + 12);
  payload.copy(target, offset + FRAME_HEADER_BYTES);
  const end = offset + FRAME_HEADER_BYTES + payload.length;
  target.writeUInt32LE(crc32(target.subarray(offset + 4, end)), offset);
  return end;
}

export type FrameProblem = 'incomplete' | 'bad length' | 'bad checksum' | 'out of sequence';

export interface FrameScan {
  /** Offset just after the last good frame. */
  end: number;
  /** Seq of the last good frame, or `expectSeq - 1` when there was none. */
  lastSeq: number;
  /** Why scanning stopped before the end of the buffer. */
  problem?: FrameProblem;
}

/**
 * Walks the frames of `buf` from `offset`, checking each one's CRC and that seqs run on from
 * `expectSeq` without a gap. Calls `visit` for each good frame; stops early when it returns false.
 */
export function scanFrames(
  buf: Buffer,
  offset: number,
  expectSeq: number,
  visit?: (seq: number, payloadStart: number, payloadEnd: number) => boolean | void,
): FrameScan {
  let pos = offset;
  let next = expectSeq;
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER_BYTES) return { end: pos, lastSeq: next - 1, problem: 'incomplete' };
    const len = buf.readUInt32LE(pos + 4);
    if (len > MAX_PAYLOAD_BYTES) return { end: pos, lastSeq: next - 1, problem: 'bad length' };
    const end = pos + FRAME_HEADER_BYTES + len;
    if (end > buf.length) return { end: pos, lastSeq: next - 1, problem: 'incomplete' };
    if (crc32(buf.subarray(pos + 4, end)) !== buf.readUInt32LE(pos)) return { end: pos, lastSeq: next - 1, problem: 'bad checksum' };
    const seq = buf.readUInt32LE(pos + 8) + buf.readUInt32LE(pos + 12) * TWO_32;
    if (seq !== next) return { end: pos, lastSeq: next - 1, problem: 'out of sequence' };
    if (visit && visit(seq, pos + FRAME_HEADER_BYTES, end) === false) return { end: pos, lastSeq: next - 1 };
    pos = end;
    next = seq + 1;
  }
  return { end: pos, lastSeq: next - 1 };
}
