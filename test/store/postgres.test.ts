// The PostgreSQL store's own promises, on a real server: migrations applied once (also by replicas
// starting together) and a newer schema refused; queue leases that change hands with a growing fencing
// token, and a holder that lost a queue's lease writes nothing to it; one line for each connection
// mistake, and an idle connection the server ends replaced without a throw.
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { openDatabase } from '../../src/store/pg/database.ts';
import { Lease } from '../../src/store/pg/lease.ts';
import { knownMigrations, migrate } from '../../src/store/pg/migrate.ts';
import { FencedError, PgStore } from '../../src/store/pg/pg-store.ts';
import { QueueLeases, queueLeaseName } from '../../src/store/pg/queue-leases.ts';
import { emptyQueueFile } from '../helpers/stores.ts';
import { usePostgres } from '../helpers/postgres.ts';

const quiet = createLogger({ level: 'silent' });
const postgres = usePostgres();

const file = (name: string) => emptyQueueFile(name);

describe('migrations', () => {
  it('are applied once, also when three replicas start together', async () => {
    const pool = await postgres.freshPool();
    const applied = await Promise.all([migrate(pool, quiet), migrate(pool, quiet), migrate(pool, quiet)]);
    expect(applied.flat()).toEqual(await knownMigrations());
    expect(await migrate(pool, quiet)).toEqual([]);
    const tables = await pool.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ost_%' ORDER BY 1");
    expect(tables.rows.map((r) => r.tablename)).toEqual([
      'ost_history',
      'ost_inbox',
      'ost_journal',
      'ost_leases',
      'ost_migrations',
      'ost_queues',
      'ost_replicas',
      'ost_run_logs',
    ]);
  });

  it('refuse a database a newer ost-gate migrated, in one line that says what to do', async () => {
    const pool = await postgres.freshPool();
    await migrate(pool, quiet);
    await pool.query("INSERT INTO ost_migrations (name, run_on) VALUES ('9999_from-the-future', now())");
    await expect(migrate(pool, quiet)).rejects.toThrow(
      /^OST_DATABASE_URL: the database's schema is newer than this ost-gate knows \(migration 9999_from-the-future\): upgrade ost-gate/,
    );
  });
});

describe('leases and fencing', () => {
  it('a holder that lost a queue while paused writes nothing to it; the new holder has a greater token', async () => {
    const pool = await postgres.freshPool();
    await migrate(pool, quiet);
    const a = new QueueLeases(pool, 'replica-a', 5_000);
    const b = new QueueLeases(pool, 'replica-b', 5_000);
    expect(await a.take(['q', 'r'], 5, { aliveMs: 2_500, eldest: true })).toEqual(expect.arrayContaining(['q', 'r']));
    expect(await b.take(['q', 'r'], 5, { aliveMs: 2_500, eldest: true })).toEqual([]);
    expect(b.token('q')).toBeNull();

    const storeA = new PgStore({ pool, fence: { lease: queueLeaseName, token: (q) => a.token(q) } });
    await storeA.writeSnapshot(file('q'));
    await storeA.writeSnapshot(file('r'));
    await storeA.appendJournal('q', {
      n: 1,
      type: 'notice',
      notice: { at: 1, level: 'info', code: 'x', message: 'a' },
    });
    expect(await a.renew()).toEqual([]);

    // replica A is paused past the lease of q (as SIGSTOP would): it runs out and B takes it
    await pool.query("UPDATE ost_leases SET expires_at = now() - interval '1 second' WHERE name = 'queue:q'");
    const tokenA = a.token('q')!;
    expect(await b.take(['q', 'r'], 5, { aliveMs: 2_500, eldest: true })).toEqual(['q']);
    expect(BigInt(b.token('q')!)).toBeGreaterThan(BigInt(tokenA));

    // A wakes up still believing it holds q: every write to q is refused; r it still writes
    const before = await pool.query(
      'SELECT (SELECT count(*) FROM ost_journal) AS j, (SELECT count(*) FROM ost_history) AS h',
    );
    await expect(
      storeA.appendJournal('q', { n: 2, type: 'notice', notice: { at: 2, level: 'info', code: 'x', message: 'late' } }),
    ).rejects.toThrow(FencedError);
    await expect(storeA.writeSnapshot({ ...file('q'), journalSeq: 1 })).rejects.toThrow(
      /no longer holds the queue:q lease/,
    );
    await expect(storeA.appendHistory('q', [{ change: 'c', verdict: 'passed', at: 1 }], 0)).rejects.toThrow(
      FencedError,
    );
    const after = await pool.query(
      'SELECT (SELECT count(*) FROM ost_journal) AS j, (SELECT count(*) FROM ost_history) AS h',
    );
    expect(after.rows).toEqual(before.rows);
    await storeA.appendJournal('r', { n: 1, type: 'done', ids: [] });
    // and it learns it lost q at its next renewal
    expect(await a.renew()).toEqual(['q']);
    expect(a.token('q')).toBeNull();
    expect(a.queues()).toEqual(['r']);
    await expect(storeA.appendJournal('q', { n: 2, type: 'done', ids: [] })).rejects.toThrow(FencedError);

    // B writes under its own token, and after a clean release another replica takes the lease at once
    const storeB = new PgStore({ pool, fence: { lease: queueLeaseName, token: (q) => b.token(q) } });
    await storeB.loadQueue('q');
    await storeB.appendJournal('q', { n: 2, type: 'done', ids: [] });
    await b.release(['q']);
    expect(await new QueueLeases(pool, 'replica-c', 5_000).take(['q'], 1, { aliveMs: 2_500, eldest: true })).toEqual([
      'q',
    ]);
  });

  it("a dead replica's queues are taken past the share by the eldest replica; a live one's only within it", async () => {
    const pool = await postgres.freshPool();
    await migrate(pool, quiet);
    const a = new QueueLeases(pool, 'replica-a', 5_000);
    const b = new QueueLeases(pool, 'replica-b', 5_000);
    expect((await a.take(['q', 'r'], 2, { aliveMs: 2_500, eldest: true })).sort()).toEqual(['q', 'r']);
    await pool.query("INSERT INTO ost_replicas (name, seen_at) VALUES ('replica-a', now())");
    // a, alive, gives q up: b takes it only within its share
    await a.release(['q']);
    expect(await b.take(['q'], 0, { aliveMs: 2_500, eldest: true })).toEqual([]);
    expect(await b.take(['q'], 1, { aliveMs: 2_500, eldest: true })).toEqual(['q']);
    // a dies (not seen for a minute) and r's lease runs out: b takes it with no room left in its share
    await pool.query("UPDATE ost_replicas SET seen_at = now() - interval '1 minute' WHERE name = 'replica-a'");
    await pool.query("UPDATE ost_leases SET expires_at = now() - interval '1 second' WHERE name = 'queue:r'");
    expect(await new QueueLeases(pool, 'replica-c', 5_000).take(['r'], 0, { aliveMs: 2_500, eldest: false })).toEqual(
      [],
    );
    expect(await b.take(['r'], 0, { aliveMs: 2_500, eldest: true })).toEqual(['r']);
  });

  it('a holder stops using its token once the lease may have run out by its own clock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const pool = await postgres.freshPool();
      await migrate(pool, quiet);
      const sources = new Lease(pool, 'sources', 'replica-a', 5_000);
      const queues = new QueueLeases(pool, 'replica-a', 5_000);
      expect(await sources.acquire()).toBeNull();
      expect(await queues.take(['q'], 1, { aliveMs: 2_500, eldest: true })).toEqual(['q']);
      expect(sources.token()).not.toBeNull();
      expect(queues.token('q')).not.toBeNull();
      // paused past the lease (a long GC, SIGSTOP): nothing is written or performed under it any more
      vi.setSystemTime(Date.now() + 5_001);
      expect(sources.token()).toBeNull();
      expect(queues.token('q')).toBeNull();
      // nobody took them meanwhile: a renewal gives them back
      expect(await sources.renew()).toBe(true);
      expect(await queues.renew()).toEqual([]);
      expect(sources.token()).not.toBeNull();
      expect(queues.token('q')).not.toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('connecting', () => {
  it('says in one line what is wrong, never with the password', async () => {
    const url = new URL(postgres.server().url);
    const secret = 'not-the-password-x9';
    const attempts: [string, RegExp][] = [
      ['mysql://u:p@localhost/db', /^OST_DATABASE_URL is not a postgres:\/\/ URL: set it as postgres:\/\//],
      [
        `postgres://postgres:${secret}@${url.host}/postgres`,
        /^OST_DATABASE_URL: PostgreSQL refused the password of postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres: fix the user or password/,
      ],
      [
        `postgres://postgres:${url.password}@${url.host}/no_such_db`,
        /^OST_DATABASE_URL: the database of postgres:\/\/postgres@127\.0\.0\.1:\d+\/no_such_db does not exist: create it/,
      ],
      [
        `postgres://postgres:${secret}@127.0.0.1:1/postgres`,
        /^OST_DATABASE_URL: nothing listens at postgres:\/\/postgres@127\.0\.0\.1:1\/postgres: start PostgreSQL/,
      ],
    ];
    for (const [attempt, expected] of attempts) {
      const err = (await openDatabase(attempt, quiet).then(
        () => null,
        (e: unknown) => e,
      )) as Error | null;
      expect(err?.name, attempt).toBe('SetupError');
      expect(err!.message).toMatch(expected);
      expect(err!.message).not.toContain(secret);
      expect(err!.message).not.toContain(url.password);
      expect(err!.message).not.toContain('\n');
    }
  });

  it('an idle connection the server ends is logged and replaced: the next query works, nothing is thrown', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const url = await postgres.server().database();
    const db = await openDatabase(url, log);
    try {
      const pid = (await db.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      // as a restart, a failover or an administrator's pg_terminate_backend would
      const admin = postgres.pool(postgres.server().url);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await vi.waitFor(() => expect(lines.join('')).toContain('a PostgreSQL connection was closed'), {
        timeout: 30_000,
        interval: 20,
      });
      const next = (await db.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      expect(next).not.toBe(pid);
      expect(lines.join('')).not.toContain(new URL(url).password);
    } finally {
      await db.close();
    }
  });
});
