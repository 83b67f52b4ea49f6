import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A consumer's position in the outbox: the last seq it has delivered. Replaced atomically
 * (temp file, fsync, rename, fsync of the directory), so a crash leaves the old or the new
 * position, never a torn one.
 */
export function cursorPath(dir: string, consumer: string): string {
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

export async function writeCursor(dir: string, dirHandle: FileHandle, consumer: string, seq: number): Promise<void> {
  const path = cursorPath(dir, consumer);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify({ seq })}\n`);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await dirHandle.sync();
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
