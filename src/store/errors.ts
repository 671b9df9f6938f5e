// What goes wrong with stored data, as errors the server answers with 503 and a reason: a queue whose
// files cannot be read (stopped, its files left alone), and a store that cannot be written.

/** A queue whose stored files cannot be read (damaged): it is stopped, and its files are left alone. */
export class QueueUnavailableError extends Error {
  constructor(
    readonly queue: string,
    readonly reason: string,
  ) {
    super(`queue ${queue} is stopped: ${reason}`);
  }
}

/** The store could not write (a full disk, a read-only file system): nothing was acted on. */
export class StoreWriteError extends Error {
  constructor(
    readonly reason: string,
    cause: unknown,
  ) {
    super(reason, { cause });
  }
}

/** What an operator does about each file-system error that stops writes. */
const WRITE_FIXES: Record<string, string> = {
  ENOSPC: 'the disk of the data directory is full: free space on it',
  EDQUOT: 'the disk quota of the data directory is used up: raise it or free space',
  EROFS: 'the data directory is on a read-only file system: remount it read-write',
  EACCES: 'the server may not write in the data directory: fix its owner or permissions',
  EIO: 'the disk of the data directory reports I/O errors: check it',
};

/** Why a write failed, in words an operator acts on. */
export function writeProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const what =
    e.code && Object.hasOwn(WRITE_FIXES, e.code) ? `${WRITE_FIXES[e.code]} (${e.code})` : `it failed: ${e.message}`;
  return `the store cannot be written; ${what}. Events are refused until a write succeeds`;
}

/** A write error of the file system (full disk, read-only, I/O, permissions) as a StoreWriteError; others as they are. */
export function asStoreWriteError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code && Object.hasOwn(WRITE_FIXES, code) ? new StoreWriteError(writeProblem(err), err) : err;
}
