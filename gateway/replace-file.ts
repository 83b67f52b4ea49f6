import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `text` atomically (temp file, fdatasync, rename, fsync of the directory),
 * so a crash leaves the old or the new content, never a torn one. `dirHandle`: the directory of
 * `path`, when the caller holds it open already.
 */
export async function replaceFile(path: string, text: string, dirHandle?: FileHandle): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  if (dirHandle) {
    await dirHandle.sync();
    return;
  }
  const dh = await open(dirname(path), 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
