// Writes that survive a power cut: the data goes to a temporary file that is fsynced, renamed over
// the target, and the directory is fsynced so that the rename itself is on disk.
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `path` with `data`, durably: after this resolves, a power cut leaves the new content. */
export async function writeDurably(path: string, data: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDirectory(dirname(path));
}

/** Flushes a directory's entries (creations, renames, removals) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
