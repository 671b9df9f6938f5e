// Both stores for the tests that must hold on each: the embedded store (a journal and lowdb snapshots
// in a temporary directory) and the PostgreSQL store (a database of its own on a throwaway cluster,
// test/helpers/postgres.ts). `storeKinds()` is called at the top of a test file: it starts PostgreSQL
// before the file's tests and stops it after them.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { PgStore } from '../../src/store/pg/pg-store.ts';
import type { QueueFile, Store } from '../../src/store/types.ts';
import { emptyQueue } from '../../src/core/index.ts';
import { afterAll } from 'vitest';
import { usePostgres } from './postgres.ts';

export const STORE_KINDS = ['embedded', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A fresh, empty store, and how to open it again as a restarted process would. */
export interface TestStore {
  store: Store;
  /** A new store object on the same data (another process, or the same one restarted). */
  reopen(): Store;
}

const quiet = createLogger({ level: 'silent' });

/** Makes fresh stores of either kind; PostgreSQL runs from before the file's first test to after its last. */
export function storeKinds(): { make(kind: StoreKind): Promise<TestStore> } {
  const postgres = usePostgres();
  // the embedded stores' journal files are closed after the file's tests, not left to the collector
  const opened: LowdbStore[] = [];
  const embedded = (dir: string) => {
    const store = new LowdbStore(dir);
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  return {
    async make(kind) {
      const scratchDir = await mkdtemp(join(tmpdir(), 'ost-store-'));
      if (kind === 'embedded') return { store: embedded(scratchDir), reopen: () => embedded(scratchDir) };
      const url = await postgres.server().database();
      const first = postgres.pool(url);
      await migrate(first, quiet);
      return {
        store: new PgStore({ pool: first }),
        reopen: () => new PgStore({ pool: postgres.pool(url) }),
      };
    },
  };
}

/** A queue file with nothing in it, as a store test writes it. */
export function emptyQueueFile(name: string, journalSeq?: number): QueueFile {
  return {
    schema: 1,
    name,
    state: emptyQueue(name),
    outbox: [],
    notices: [],
    deliveries: [],
    historyMoved: 0,
    ...(journalSeq !== undefined ? { journalSeq } : {}),
  };
}
