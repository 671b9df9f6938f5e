// `ost-gate store copy` between the embedded store and a real PostgreSQL, both ways: the queues and
// their history arrive whole; a target that holds queues, a store in use and a damaged source are
// refused in one line, with nothing written.
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../src/core/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { createLogger } from '../../src/log.ts';
import { claimDataDir } from '../../src/store/data-dir-owner.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { Lease } from '../../src/store/pg/lease.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { PgStore } from '../../src/store/pg/pg-store.ts';
import { runCli } from '../helpers/cli.ts';
import { noopPerformer } from '../helpers/web.ts';
import { usePostgres } from '../helpers/postgres.ts';

const quiet = createLogger({ level: 'silent' });
const postgres = usePostgres();

const merged = (project: string, ids: string[]): CoreEvent => ({
  type: 'merged',
  at: 0,
  stream: { host: 'git', project, branch: 'main' },
  before: 'base',
  after: `sha-${ids.at(-1)}`,
  changes: ids.map((id, i) => ({ id, sha: `sha-${id}`, parent: i === 0 ? 'base' : `sha-${ids[i - 1]}` })),
});

/** A data directory with two queues, one of them with history and journal records after its snapshot. */
async function embeddedWithQueues(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ost-copy-'));
  const store = new LowdbStore(dir);
  const engine = new Engine({ store, performer: noopPerformer });
  await engine.submit('git:app@main', merged('app', ['a', 'b']), { delivery: 'd1' });
  await engine.submit('git:lib@main', merged('lib', ['x']));
  await store.appendHistory('git:app@main', [{ change: 'old', verdict: 'passed', at: 5 }], 0);
  await store.close();
  return dir;
}

const snapshotOf = async (store: LowdbStore | PgStore, name: string) => {
  const file = (await readQueue(store, name))!;
  return { state: file.state, deliveries: file.deliveries, history: await store.readHistory(name, 100) };
};

describe('ost-gate store copy', () => {
  it('moves a data directory into PostgreSQL and back, queues and history whole', async () => {
    const dir = await embeddedWithQueues();
    const url = await postgres.server().database();
    const there = await runCli('store', 'copy', '--from', dir, '--to', url);
    expect(there.err).toBe('');
    expect(there).toMatchObject({ code: 0 });
    expect(there.out).toMatch(
      /^copied 2 queue\(s\) and 1 verdict\(s\) of history from .* to postgres:\/\/postgres@127\.0\.0\.1:\d+\/ost_test_/,
    );
    expect(there.out).not.toContain(new URL(url).password);

    const pool = postgres.pool(url);
    const inDb = new PgStore({ pool });
    const original = new LowdbStore(dir, { readOnly: true });
    expect(await inDb.listQueues()).toEqual(['git:app@main', 'git:lib@main']);
    for (const name of ['git:app@main', 'git:lib@main'])
      expect(await snapshotOf(inDb, name)).toEqual(await snapshotOf(original, name));

    const back = join(await mkdtemp(join(tmpdir(), 'ost-copy-back-')), 'data');
    expect((await runCli('store', 'copy', '--from', url, '--to', back)).code).toBe(0);
    const returned = new LowdbStore(back, { readOnly: true });
    for (const name of ['git:app@main', 'git:lib@main'])
      expect(await snapshotOf(returned, name)).toEqual(await snapshotOf(original, name));
  });

  it('refuses a target that holds queues, a store in use and a damaged source, writing nothing', async () => {
    const dir = await embeddedWithQueues();
    const url = await postgres.server().database();
    const pool = postgres.pool(url);
    await migrate(pool, quiet);

    // the target holds a queue
    const other = await embeddedWithQueues();
    const full = await runCli('store', 'copy', '--from', dir, '--to', other);
    expect(full).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^ost-gate: store copy: .* already holds 2 queue\(s\); copy into an empty store$/),
    });

    // a replica writes to the database
    const lease = new Lease(pool, 'writer', 'replica-1', 60_000);
    await lease.acquire();
    const busy = await runCli('store', 'copy', '--from', dir, '--to', url);
    expect(busy.err).toMatch(/^ost-gate: store copy: replica replica-1 is writing to .*: stop every replica first$/);
    await lease.release();

    // a server owns the data directory
    const owner = await claimDataDir(dir, quiet);
    expect((await runCli('store', 'copy', '--from', dir, '--to', url)).err).toMatch(
      /is in use by another ost-gate server/,
    );
    await owner.release();

    // a damaged snapshot: nothing reaches the target
    const queues = join(dir, 'queues');
    const snapshot = (await readdir(queues)).find((f) => f.endsWith('.json'))!;
    await writeFile(join(queues, snapshot), '{"schema": 1, "name": ');
    const damaged = await runCli('store', 'copy', '--from', dir, '--to', url);
    expect(damaged.err).toMatch(/cannot be read .*; nothing was copied$/);
    expect((await pool.query('SELECT count(*) AS n FROM ost_queues')).rows[0].n).toBe('0');

    expect((await runCli('store', 'copy', '--from', '/nonexistent/ost', '--to', url)).err).toBe(
      'ost-gate: store copy: there is no data directory at /nonexistent/ost',
    );
    expect((await runCli('store', 'copy', '--from', dir)).code).toBe(2);
  });
});
