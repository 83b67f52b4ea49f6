import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Keeps two gateways from writing one outbox directory: a pid file, taken over when its process
 * is gone (after SIGKILL or a power loss the file stays behind).
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const abs = resolve(dir);
  if (heldHere.has(abs)) throw new Error(`outbox ${abs} is already open in this process`);
  const path = join(abs, 'outbox.lock');
  let owner: number | undefined;
  try {
    owner = Number.parseInt(await readFile(path, 'utf8'), 10);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (owner && owner !== process.pid && alive(owner)) {
    throw new Error(`outbox ${abs} is in use by process ${owner}; stop it first (or delete ${path} if that process is not a gateway)`);
  }
  heldHere.add(abs);
  await writeFile(path, `${process.pid}\n`);
  return async () => {
    heldHere.delete(abs);
    await unlink(path).catch(() => undefined);
  };
}
