// Which store the server writes to: PostgreSQL when OST_DATABASE_URL is set (its schema migrated, this
// replica's part decided by leases, every write of a queue fenced by the queue's lease, an inbox for
// what is accepted for queues other replicas write, run logs), else the embedded store in OST_DATA_DIR.
import type { Logger } from '../log.ts';
import { SetupError } from '../config/setup-error.ts';
import { LowdbStore } from './lowdb-store.ts';
import type { PgInbox } from './pg/inbox.ts';
import type { Replica } from './pg/replica.ts';
import type { Store } from './types.ts';

export interface OpenedStore {
  store: Store;
  /** What the store is, for the log line at start-up. */
  summary: string;
  /** On PostgreSQL: this replica's part (started once the server is wired), and the inbox. */
  replica?: Replica;
  inbox?: PgInbox;
  /** Gives up the leases and closes connections (after the engine closed). */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  log: Logger;
}

/** The lease's time to live from OST_LEASE_SECONDS (default `defaultMs`), or a SetupError naming it. */
function leaseMs(env: NodeJS.ProcessEnv, defaultMs: number): number {
  const raw = env.OST_LEASE_SECONDS;
  if (raw === undefined || raw === '') return defaultMs;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 300)
    throw new SetupError(`OST_LEASE_SECONDS=${raw} is not a number of seconds from 1 to 300: set it to 6, the default`);
  return seconds * 1000;
}

export async function openStore({ env, dataDir, log }: OpenStoreOptions): Promise<OpenedStore> {
  const url = env.OST_DATABASE_URL;
  if (!url) {
    const store = new LowdbStore(dataDir);
    return {
      store,
      summary: `data directory ${dataDir} (one JSON file per queue under queues/)`,
      close: async () => undefined,
    };
  }
  // pg and the migration tool load only for a database: the embedded store starts without them
  const [{ openDatabase }, { PgInbox }, { PgStore }, { DEFAULT_LEASE_MS, Replica }, { queueLeaseName }] =
    await Promise.all([
      import('./pg/database.ts'),
      import('./pg/inbox.ts'),
      import('./pg/pg-store.ts'),
      import('./pg/replica.ts'),
      import('./pg/queue-leases.ts'),
    ]);
  const ttlMs = leaseMs(env, DEFAULT_LEASE_MS);
  const db = await openDatabase(url, log);
  const replica = new Replica({ pool: db.pool, log, ttlMs });
  const store = new PgStore({
    pool: db.pool,
    fence: { lease: queueLeaseName, token: (queue) => replica.queueLeases.token(queue) },
  });
  return {
    store,
    replica,
    inbox: new PgInbox(db.pool, replica.name),
    summary: `PostgreSQL ${db.label} (replica ${replica.name}, leases of ${ttlMs / 1000} s)`,
    async close() {
      await replica.leave();
      await db.close();
    },
  };
}
