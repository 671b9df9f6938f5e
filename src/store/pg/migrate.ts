// The PostgreSQL schema: the versioned SQL migrations under migrations/ applied by node-pg-migrate at
// start-up, under its advisory lock (replicas starting together apply each migration once). A
// database that has a migration this ost-gate does not know was made by a newer one: it is refused.
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import { SetupError } from '../../config/setup-error.ts';
import type { Logger } from '../../log.ts';

/** Where the migrations are, from src/store/pg/ and from dist/store/pg/ alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
/** The table node-pg-migrate records the applied migrations in. */
export const MIGRATIONS_TABLE = 'ost_migrations';

/** The names of the migrations this ost-gate knows, oldest first. */
export async function knownMigrations(): Promise<string[]> {
  return (await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

/** The migrations the database has had, oldest first (none for a new database). */
async function appliedMigrations(client: pg.PoolClient): Promise<string[]> {
  const table = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
    MIGRATIONS_TABLE,
  ]);
  if (!table.rows[0]?.exists) return [];
  const rows = await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE} ORDER BY run_on, id`);
  return rows.rows.map((r) => r.name);
}

/**
 * Brings the database's schema up to this ost-gate's; returns the migrations applied now. Throws a
 * SetupError when the database was migrated by a newer ost-gate.
 */
export async function migrate(pool: pg.Pool, log: Logger): Promise<string[]> {
  const known = new Set(await knownMigrations());
  const client = await pool.connect();
  try {
    const newer = (await appliedMigrations(client)).filter((m) => !known.has(m));
    if (newer.length)
      throw new SetupError(
        `OST_DATABASE_URL: the database's schema is newer than this ost-gate knows (migration ${newer.at(-1)}): ` +
          'upgrade ost-gate to the version the other replicas run, or point OST_DATABASE_URL at another database',
      );
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      // replicas starting together wait for the one migrating, then find nothing left to do
      advisoryLockMode: 'wait',
      log: (message: string) => log.debug({ component: 'migrations' }, message),
    });
    const names = applied.map((m) => m.name);
    if (names.length) log.info({ migrations: names }, `database schema migrated: ${names.join(', ')}`);
    return names;
  } finally {
    client.release();
  }
}
