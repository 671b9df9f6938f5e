// The connection to PostgreSQL named by OST_DATABASE_URL: a pool (TLS and credentials as the URL and
// the PG* variables say), checked once at start-up with one line per mistake a person can make, and
// the schema migrated. The password is never logged: the database is named by user, host and name.
import pg from 'pg';
import { SetupError } from '../../config/setup-error.ts';
import type { Logger } from '../../log.ts';
import { migrate } from './migrate.ts';

/** How many connections a replica opens at most. */
const POOL_SIZE = 10;
/** How long a connection attempt may take before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The database as a log line may name it: user, host, port and database, never the password. */
export function databaseLabel(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** A failure to connect as the one line a person needs. */
export function connectProblem(err: unknown, url: string): SetupError {
  const e = err as Error & { code?: string };
  const where = databaseLabel(url);
  const byCode: Record<string, string> = {
    ECONNREFUSED: `nothing listens at ${where}: start PostgreSQL, or fix the host and port`,
    ENOTFOUND: `the host of ${where} is unknown: fix the host`,
    EAI_AGAIN: `the host of ${where} cannot be resolved now: check DNS, or fix the host`,
    ETIMEDOUT: `${where} does not answer: check the network and firewall between this replica and PostgreSQL`,
    '28P01': `PostgreSQL refused the password of ${where}: fix the user or password in the URL`,
    '28000': `PostgreSQL does not let ${where} in (pg_hba.conf): allow this host and user, or fix the URL`,
    '3D000': `the database of ${where} does not exist: create it (createdb), or fix the URL`,
  };
  const fix = (e.code && byCode[e.code]) ?? `cannot connect to ${where}: ${e.message}`;
  return new SetupError(`OST_DATABASE_URL: ${fix}`);
}

export interface Database {
  pool: pg.Pool;
  /** user@host:port/database, for logs. */
  label: string;
  close(): Promise<void>;
}

/** Connects to the database at `url`, checks it answers, and migrates its schema. */
export async function openDatabase(url: string, log: Logger): Promise<Database> {
  try {
    const protocol = new URL(url).protocol;
    if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new Error(protocol);
  } catch {
    throw new SetupError(
      'OST_DATABASE_URL is not a postgres:// URL: set it as postgres://user:password@host:5432/database',
    );
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'ost-gate',
  });
  // an idle connection the server closed (a restart, a failover) is dropped; the next query opens another
  pool.on('error', (err) => log.warn({ err: err.message }, 'a PostgreSQL connection was closed; it is opened again'));
  const label = databaseLabel(url);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw connectProblem(err, url);
  }
  try {
    await migrate(pool, log);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return { pool, label, close: () => pool.end() };
}
