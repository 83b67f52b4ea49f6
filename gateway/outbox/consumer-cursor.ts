import { CoalescedWrite } from './cursor-file.ts';

/**
 * One consumer's place in the outbox: how far it has delivered (in memory, and in its cursor
 * file), the records it lost to a full outbox or a damaged segment, and its reads waiting for data.
 */
export class ConsumerCursor {
  /** Delivered up to here (in memory). */
  cursor: number;
  /** Delivered up to here (on disk). */
  persisted: number;
  droppedRecords = 0;
  droppedBytes = 0;
  private readonly waiters = new Set<(data: boolean) => void>();
  private readonly saving: CoalescedWrite;

  constructor(
    readonly name: string,
    cursor: number,
    /** Writes `seq` to the consumer's cursor file; `onSaved` runs once it is there. */
    save: (seq: number) => Promise<void>,
    onSaved: () => void,
  ) {
    this.cursor = cursor;
    this.persisted = cursor;
    this.saving = new CoalescedWrite(async () => {
      const seq = this.cursor;
      await save(seq);
      this.persisted = Math.max(this.persisted, seq);
      onSaved();
    });
  }

  /** Moves the cursor forward to `seq`; false when it is there already. */
  advance(seq: number): boolean {
    if (seq <= this.cursor) return false;
    this.cursor = seq;
    return true;
  }

  /** Resolves once the cursor as it is now (or a later one) is in the cursor file. */
  persist(): Promise<void> {
    return this.saving.request();
  }

  /** Resolves when no cursor write is running or queued. */
  idle(): Promise<void> {
    return this.saving.idle();
  }

  /** Counts records that will never be delivered and moves the cursor past them. */
  lose(records: number, bytes: number, throughSeq: number): void {
    this.droppedRecords += records;
    this.droppedBytes += bytes;
    this.cursor = Math.max(this.cursor, throughSeq);
  }

  /** Resolves true on the next wake(true); false on wake(false) or when `signal` aborts. */
  waitForData(signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (data: boolean): void => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve(data);
      };
      const onAbort = (): void => done(false);
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  wake(data: boolean): void {
    for (const w of [...this.waiters]) w(data);
    this.waiters.clear();
  }
}
