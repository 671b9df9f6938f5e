// A real PostgreSQL for tests: a throwaway cluster made with Debian's binaries (initdb in a temporary
// directory, on a free port of 127.0.0.1, password authentication), run as an unprivileged user
// because PostgreSQL refuses root (the `postgres` user the package makes, when the tests run as
// root), and removed afterwards. OST_TEST_DATABASE_URL points the tests at an existing server instead
// (a superuser's URL: each test gets a database of its own there).
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from './ports.ts';

const run = promisify(execFile);

export interface TestPostgres {
  /** The superuser's URL of the server's `postgres` database. */
  url: string;
  /** A new empty database's URL. */
  database(): Promise<string>;
  /** `pg_ctl restart -m fast` (only for a cluster the tests started). */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`, and `start` again (only for a cluster the tests started). */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest PostgreSQL installed under /usr/lib/postgresql, or a clear error. */
function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0])
    throw new Error(
      "PostgreSQL is not installed: install Debian's postgresql package (.ci/run does), " +
        'or set OST_TEST_DATABASE_URL to a server the tests may create databases on',
    );
  return join(root, versions[0], 'bin');
}

/** The user and group PostgreSQL runs as: `postgres` when the tests run as root, else the tests' own. */
function unprivileged(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

let databases = 0;

/** A database of its own on the server at `adminUrl`. */
async function createDatabase(adminUrl: string): Promise<string> {
  const name = `ost_test_${process.pid}_${++databases}_${randomBytes(3).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Starts a throwaway cluster (or uses OST_TEST_DATABASE_URL). */
export async function startPostgres(): Promise<TestPostgres> {
  const existing = process.env.OST_TEST_DATABASE_URL;
  if (existing)
    return {
      url: existing,
      database: () => createDatabase(existing),
      restart: () => Promise.reject(new Error('restart needs a cluster the tests started')),
      down: () => Promise.reject(new Error('down needs a cluster the tests started')),
      up: () => Promise.reject(new Error('up needs a cluster the tests started')),
      stop: async () => undefined,
    };
  const bin = binaries();
  const owner = unprivileged();
  const dir = mkdtempSync(join(tmpdir(), 'ost-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(join(dir, 'pwfile'), owner.uid, owner.gid);
  }
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const port = await freePort();
  const pgCtl = (...args: string[]) =>
    run(join(bin, 'pg_ctl'), ['-D', data, ...args], { ...as, cwd: dir, timeout: 60_000 });
  await run(
    join(bin, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${join(dir, 'pwfile')}`,
      '--auth=scram-sha-256',
      '--no-sync',
      '-E',
      'UTF8',
    ],
    { ...as, cwd: dir, timeout: 60_000 },
  );
  // fsync off: a test cluster need not survive a power cut, and the tests run faster
  const options = `-p ${port} -h 127.0.0.1 -k ${dir} -F -c max_connections=200`;
  const start = () => pgCtl('-o', options, '-l', join(dir, 'server.log'), '-w', 'start');
  await start();
  const stopNow = () => {
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { ...as, stdio: 'ignore' });
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    url,
    database: () => createDatabase(url),
    async restart() {
      await pgCtl('-m', 'fast', '-o', options, '-l', join(dir, 'server.log'), '-w', 'restart');
    },
    async down() {
      await pgCtl('-m', 'fast', '-w', 'stop');
    },
    async up() {
      await start();
    },
    async stop() {
      process.off('exit', stopNow);
      await pgCtl('-m', 'fast', '-w', 'stop').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A cluster for the test file that calls it (at its top): started before its first test, stopped
 * after its last, with the pools the file opened through `pool()` closed first.
 */
export function usePostgres(): {
  server: () => TestPostgres;
  /** A pool on the database at `url`. */
  pool: (url: string) => pg.Pool;
  /** A pool on a new empty database. */
  freshPool: () => Promise<pg.Pool>;
} {
  let server: TestPostgres | null = null;
  const pools: { pool: pg.Pool; closed: () => Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    // pool.end() resolves before its connections are closed: the server is stopped only once they
    // are, or it would end them itself and their error would come out of an idle connection
    for (const { pool, closed } of pools) {
      await pool.end().catch(() => undefined);
      await closed();
    }
    await server?.stop();
  });
  const pool = (url: string) => {
    const opened = new pg.Pool({ connectionString: url, max: 4 });
    // an idle connection the server ends (a stop or restart a test makes, a backend that crashed)
    // errors on its pool, and without a listener that error is thrown out of the test file, whatever
    // its tests found; the pool opens another connection for the next query, as a replica's does
    // (database.ts). A query that fails fails its test.
    opened.on('error', (err: Error & { code?: string }) => {
      if (err.code !== '57P01') console.warn(`test PostgreSQL: an idle connection failed: ${err.message}`);
    });
    const connections = new Set<pg.PoolClient>();
    const waiting: (() => void)[] = [];
    opened.on('connect', (client) => connections.add(client));
    opened.on('remove', (client) => {
      connections.delete(client);
      if (connections.size === 0) for (const done of waiting.splice(0)) done();
    });
    const closed = () => (connections.size === 0 ? Promise.resolve() : new Promise<void>((done) => waiting.push(done)));
    pools.push({ pool: opened, closed });
    return opened;
  };
  return { server: () => server!, pool, freshPool: async () => pool(await server!.database()) };
}
