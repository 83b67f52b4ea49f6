import { readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../replace-file.ts';

/** Where a consumer's position in the outbox (the last seq it has delivered) is kept. */
function cursorPath(dir: string, consumer: string): string {
  return join(dir, `${consumer}.cursor`);
}

/** The stored position, or undefined when the consumer has none yet. */
export async function readCursor(dir: string, consumer: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(cursorPath(dir, consumer), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const seq = (JSON.parse(text) as { seq?: unknown }).seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new Error(`${cursorPath(dir, consumer)}: no valid seq in ${JSON.stringify(text)}`);
  return seq;
}

/** Replaces the stored position atomically: a crash leaves the old or the new one, never a torn one. */
export async function writeCursor(dir: string, dirHandle: FileHandle, consumer: string, seq: number): Promise<void> {
  await replaceFile(cursorPath(dir, consumer), `${JSON.stringify({ seq })}\n`, dirHandle);
}

/**
 * Runs `write` for every request, but never two at once: requests made while one runs share
 * the next run. A burst of commits costs two writes, not one each.
 */
export class CoalescedWrite {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly write: () => Promise<void>) {}

  request(): Promise<void> {
    if (!this.running) {
      this.running = this.write().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.request();
      });
    return this.queued;
  }

  /** Resolves when no write is running or queued. */
  async idle(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)?.catch(() => undefined);
  }
}
