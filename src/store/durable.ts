// Writes that survive a power cut: the data goes to a temporary file that is fsynced, renamed over
// the target, and the directory is fsynced so that the rename itself is on disk.
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data`, durably: after this resolves, a power cut leaves the new content.
 * `beforeRename` is called once the temporary file is on disk (the crash test stops there).
 */
export async function writeDurably(path: string, data: string, beforeRename?: () => void): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${++written}`;
  try {
    const file = await open(temporary, 'w', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    beforeRename?.();
    await rename(temporary, path);
  } catch (err) {
    // a full disk or a crash of the write leaves the old file; the temporary one goes
    await rm(temporary, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** Numbers the temporary files, so that two writes at once never share one. */
let written = 0;

/** Flushes a directory's entries (creations, renames, removals) to disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
