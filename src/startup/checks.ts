// Start-up checks: each finds one mistake a person can make when setting the server up, and throws a
// SetupError whose one line names the setting and the fix. `ost-gate serve` runs them before it opens
// anything, so a bad setting stops it at once instead of surfacing later as a failed run.
import { createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { writeDurably } from '../store/durable.ts';
import { SetupError } from '../config/setup-error.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** A data directory that does not answer in this time is on a file system that cannot hold it. */
const DATA_DIR_TIMEOUT_MS = 10_000;

/** PORT and HOST, checked: where the HTTP server listens. */
export function listenAddress(env: NodeJS.ProcessEnv): { port: number; host: string } {
  const portText = env.PORT ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535)
    throw new SetupError(`PORT=${portText} is not a port number: set PORT to a number from 0 to 65535 (default 3000)`);
  const host = env.HOST ?? '127.0.0.1';
  const hostname = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  if (!isIP(host) && !hostname.test(host))
    throw new SetupError(
      `HOST=${host} is not an address to listen on: set HOST to an IP address such as 127.0.0.1 or 0.0.0.0`,
    );
  return { port, host };
}

export function checkLogLevel(env: NodeJS.ProcessEnv): void {
  const level = env.LOG_LEVEL;
  if (level !== undefined && !LOG_LEVELS.includes(level))
    throw new SetupError(`LOG_LEVEL=${level} is not a level: set LOG_LEVEL to one of ${LOG_LEVELS.join(', ')}`);
}

/** File systems that hold no files of ours (statfs types): procfs and sysfs, where a mkdir may hang. */
const PSEUDO_FILE_SYSTEMS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs' };

/** The file system type of the nearest existing directory at or above `dir`. */
async function fileSystemOf(dir: string): Promise<number | null> {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = await statfs(at).catch(() => null);
    if (found) return found.type;
    if (dirname(at) === at) return null;
  }
}

/** The data directory exists (it is made if missing), is writable, and takes a durable write and a rename. */
export async function checkDataDir(dir: string, setting = 'OST_DATA_DIR'): Promise<void> {
  const fix = `create it and make it writable by this user, or set ${setting} to a directory on a local disk`;
  const pseudo = PSEUDO_FILE_SYSTEMS[(await fileSystemOf(dir)) ?? -1];
  if (pseudo) throw new SetupError(`${setting}=${dir} is on ${pseudo}, which cannot hold files: ${fix}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(
      () => fail(new SetupError(`${setting}=${dir} did not answer within ${DATA_DIR_TIMEOUT_MS / 1000} s: ${fix}`)),
      DATA_DIR_TIMEOUT_MS,
    );
    timer.unref();
  });
  const probe = async () => {
    try {
      await mkdir(dir, { recursive: true });
      if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      const file = join(dir, `.ost-gate-probe-${process.pid}`);
      await writeDurably(file, 'probe');
      if ((await readFile(file, 'utf8')) !== 'probe') throw new Error('what was written did not read back');
      await rm(file);
    } catch (err) {
      if (err instanceof SetupError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new SetupError(`${setting}=${dir} cannot hold ost-gate's data (${code}): ${fix}`);
    }
  };
  try {
    await Promise.race([probe(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The GitHub App's private key, from PRIVATE_KEY or PRIVATE_KEY_PATH, checked to be a PEM private key. */
export async function readAppPrivateKey(env: NodeJS.ProcessEnv): Promise<string> {
  let key = env.PRIVATE_KEY;
  let setting = 'PRIVATE_KEY';
  if (!key && env.PRIVATE_KEY_PATH) {
    setting = `PRIVATE_KEY_PATH=${env.PRIVATE_KEY_PATH}`;
    try {
      key = await readFile(env.PRIVATE_KEY_PATH, 'utf8');
    } catch (err) {
      throw new SetupError(
        `${setting} cannot be read (${(err as NodeJS.ErrnoException).code}): point it at the App's .pem file, readable by this user`,
      );
    }
  }
  if (!key)
    throw new SetupError(
      'APP_ID is set but PRIVATE_KEY and PRIVATE_KEY_PATH are not: set one to the private key GitHub generated for the App',
    );
  const pem = key.replace(/\\n/g, '\n');
  try {
    createPrivateKey(pem);
  } catch {
    throw new SetupError(
      `${setting} is not a PEM private key: use the .pem file from the App's settings ("Generate a private key")`,
    );
  }
  return pem;
}
