import type { OutboxRecord } from './record-frame.ts';

/**
 * The newest durable records, kept in memory up to a byte bound so that consumers that keep up
 * never read the disk. Holds every record after `after`, oldest first.
 */
export class MemoryTail {
  private records: OutboxRecord[] = [];
  private head = 0;
  private bytes = 0;
  private afterSeq: number;

  constructor(
    private readonly maxBytes: number,
    /** Seq of the newest record already on disk when the outbox opened. */
    after: number,
  ) {
    this.afterSeq = after;
  }

  /** Every record with a larger seq is here (or not written yet). */
  get after(): number {
    return this.afterSeq;
  }

  push(record: OutboxRecord): void {
    this.records.push(record);
    this.bytes += record.payload.length;
  }

  /** Lets go of records every consumer has passed, and of the oldest ones beyond the byte bound. */
  trim(minCursor: number): void {
    const records = this.records;
    while (this.head < records.length) {
      const r = records[this.head] as OutboxRecord;
      if (r.seq > minCursor && this.bytes <= this.maxBytes) break;
      this.bytes -= r.payload.length;
      this.afterSeq = r.seq;
      this.head++;
    }
    if (this.head > 4096 && this.head * 2 > records.length) {
      this.records = records.slice(this.head);
      this.head = 0;
    }
  }

  /** Up to `maxRecords` records after `after` (at least one when any, even beyond `maxBytes`); `after` must be at least `this.after`. */
  read(after: number, maxRecords: number, maxBytes: number): OutboxRecord[] {
    const records = this.records;
    let lo = this.head;
    let hi = records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((records[mid] as OutboxRecord).seq <= after) lo = mid + 1;
      else hi = mid;
    }
    const out: OutboxRecord[] = [];
    let bytes = 0;
    for (let i = lo; i < records.length && out.length < maxRecords; i++) {
      const r = records[i] as OutboxRecord;
      if (out.length > 0 && bytes + r.payload.length > maxBytes) break;
      bytes += r.payload.length;
      out.push(r);
    }
    return out;
  }
}
