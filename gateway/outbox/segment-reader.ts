import { open, type FileHandle } from 'node:fs/promises';
import { FRAME_HEADER_BYTES, frameBytes, scanFrames, type OutboxRecord } from './record-frame.ts';
import { isNotFound, type Segment } from './segment.ts';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Records a consumer loses because a segment went bad on disk after it was checked at open. */
export interface SegmentDamage {
  segment: Segment;
  /** Where in the file reading stopped. */
  offset: number;
  problem: string;
  lostRecords: number;
}

interface OpenSegment {
  segment: Segment;
  fh: FileHandle;
  offset: number;
  nextSeq: number;
}

/**
 * Reads one consumer's records from the segment files, for a consumer behind the memory tail.
 * Keeps the segment it reads open and its position, so reading on costs no seek or rescan.
 */
export class SegmentReader {
  private current: OpenSegment | undefined;

  constructor(
    /** The outbox's segments, oldest first; segments are removed from it while reading. */
    private readonly segments: readonly Segment[],
    /** The consumer's cursor now (it moves when records are dropped under a read). */
    private readonly cursor: () => number,
    /** Called when damage is skipped; the records up to the segment's last seq are gone for this consumer. */
    private readonly onDamage: (damage: SegmentDamage) => void,
  ) {}

  /** Up to `maxRecords` durable records after `after`, at least one when any is waiting. */
  async read(after: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    for (;;) {
      const seg = this.segments.find((s) => s.lastSeq > after);
      if (!seg) {
        await this.close();
        return [];
      }
      try {
        const out = await this.readSegment(seg, after, maxRecords, maxBytes);
        if (out.length === 0 && this.cursor() === after && this.current) this.skipDamage(seg, this.current, 'records missing');
        return out;
      } catch (err) {
        await this.close();
        // Deleted under us (dropped to make room, or delivered by every consumer): look again.
        if (isNotFound(err) && !this.segments.includes(seg)) continue;
        throw err;
      }
    }
  }

  async close(): Promise<void> {
    const r = this.current;
    this.current = undefined;
    await r?.fh.close().catch(() => undefined);
  }

  private async readSegment(seg: Segment, after: number, maxRecords: number, maxBytes: number): Promise<OutboxRecord[]> {
    let r = this.current;
    if (r?.segment !== seg) {
      await this.close();
      r = this.current = { segment: seg, fh: await open(seg.path, 'r'), offset: 0, nextSeq: seg.firstSeq };
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
        this.skipDamage(seg, r, scan.problem ?? 'file shorter than expected');
        break;
      }
      need = READ_CHUNK_BYTES;
    }
    return out;
  }

  /** Frames cannot be found again after a bad one, so reading skips to the end of the segment. */
  private skipDamage(seg: Segment, r: OpenSegment, problem: string): void {
    const lostRecords = Math.max(0, seg.lastSeq - Math.max(this.cursor(), r.nextSeq - 1));
    this.onDamage({ segment: seg, offset: r.offset, problem, lostRecords });
    r.offset = seg.durableBytes;
    r.nextSeq = seg.lastSeq + 1;
  }
}
