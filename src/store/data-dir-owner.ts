// One server per data directory. Two servers on one OST_DATA_DIR would run the same runs twice and
// fight over the git watcher's refs, so the server takes a lock (proper-lockfile: a lock directory
// whose mtime it refreshes) and writes owner.json with its pid, host and start time next to it.
// A second server is refused with a line naming the directory and the owner's pid. A lock left by
// a server that was SIGKILLed is taken over, with a log line: at once when owner.json names a pid
// on this host that is gone, otherwise once the lock has not been refreshed for STALE_MS.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from '../log.ts';
import { SetupError } from '../config/setup-error.ts';

const STALE_MS = 10_000;

interface Owner {
  pid: number;
  host: string;
  since: string;
  /** Set when the owner let go of the directory cleanly. */
  released?: string;
}

export interface DataDirOwnership {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ownerOf(dir: string): Promise<Owner | null> {
  try {
    return JSON.parse(await readFile(join(dir, 'owner.json'), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

/** Takes the data directory for this process, or throws a SetupError naming the server that has it. */
export async function claimDataDir(dir: string, log: Logger): Promise<DataDirOwnership> {
  const options = {
    lockfilePath: join(dir, 'owner.lock'),
    realpath: false,
    stale: STALE_MS,
    onCompromised: (err: Error) =>
      log.error({ dir, err: err.message }, `lost the lock on ${dir}: another server may be using it; stop one of them`),
  };
  const before = await ownerOf(dir);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    if (!before || before.host !== hostname() || alive(before.pid) || before.pid === process.pid)
      throw new SetupError(
        `OST_DATA_DIR=${dir} is in use by another ost-gate server (pid ${before?.pid ?? 'unknown'} on ` +
          `${before?.host ?? 'an unknown host'}): stop it, or give this server its own OST_DATA_DIR`,
      );
    // the owner on this host is gone (SIGKILL, power cut): its lock is stale whatever its age, and
    // proper-lockfile unlocks only its own locks, so the lock directory is removed here
    await rm(options.lockfilePath, { recursive: true, force: true });
    release = await lockfile.lock(dir, options);
  }
  if (before && !before.released)
    log.warn(
      { dir, pid: before.pid, host: before.host },
      `took over ${dir} from pid ${before.pid} on ${before.host}, which stopped without releasing it`,
    );
  const me: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  await writeFile(join(dir, 'owner.json'), JSON.stringify(me));
  return {
    async release() {
      await writeFile(join(dir, 'owner.json'), JSON.stringify({ ...me, released: new Date().toISOString() }));
      await release();
    },
  };
}
