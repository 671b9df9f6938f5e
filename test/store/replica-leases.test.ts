// Queue leases shared out among replicas, on a real PostgreSQL: each replica writes about as many
// queues as the others, never a queue another writes; a replica that joins gets idle queues from the
// others, a busy queue does not move by choice, and the queues of one that stopped beating (dead) are
// taken by the others once their leases run out. The watchers run on exactly one replica.
import { afterEach, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createLogger } from '../../src/log.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { PgStore } from '../../src/store/pg/pg-store.ts';
import { Replica, type ReplicaHooks } from '../../src/store/pg/replica.ts';
import { emptyQueueFile } from '../helpers/stores.ts';
import { usePostgres } from '../helpers/postgres.ts';

const quiet = createLogger({ level: 'silent' });
const postgres = usePostgres();
const TTL_MS = 1200;

const started: Replica[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.leave();
});

/** A database with `count` queues q0, q1, ... */
async function withQueues(count: number): Promise<pg.Pool> {
  const pool = await postgres.freshPool();
  await migrate(pool, quiet);
  const store = new PgStore({ pool });
  for (let i = 0; i < count; i++) await store.writeSnapshot(emptyQueueFile(`q${i}`));
  return pool;
}

/** A replica whose hooks record what it was told; `busy` queues may not move. */
async function join(pool: pg.Pool, busy: Set<string> = new Set(), ttlMs = TTL_MS) {
  const replica = new Replica({ pool, log: quiet, ttlMs });
  const told = { gained: [] as string[], lost: [] as string[], left: [] as string[] };
  const hooks: ReplicaHooks = {
    sourcesStarted: async () => undefined,
    sourcesStopped: async () => undefined,
    queuesGained: async (queues) => void told.gained.push(...queues),
    queuesLost: async (queues) => void told.lost.push(...queues),
    mayMove: async (queue) => !busy.has(queue),
    queueLeaving: async (queue) => void told.left.push(queue),
    catchUp: async () => undefined,
  };
  await replica.start(hooks);
  started.push(replica);
  return { replica, told };
}

/** Polls every 100 ms until `probe` holds (at most 300 times: a hang guard), checking no queue is written twice. */
async function until(replicas: Replica[], probe: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const written = replicas.flatMap((r) => r.written());
    expect(new Set(written).size).toBe(written.length);
    if (probe()) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`never settled: ${replicas.map((r) => r.written().length).join(', ')}`);
}

const counts = (replicas: Replica[]) => replicas.map((r) => r.written().length).sort((x, y) => x - y);

describe('queue leases among replicas', () => {
  it('are shared out evenly, move to a replica that joins, and are taken over from one that died', async () => {
    const pool = await withQueues(30);
    const a = await join(pool);
    expect(a.replica.written()).toHaveLength(30);
    expect(a.replica.watches()).toBe(true);

    const b = await join(pool);
    const c = await join(pool);
    const all = [a.replica, b.replica, c.replica];
    await until(all, () => counts(all).join() === '10,10,10');
    expect(all.filter((r) => r.watches())).toHaveLength(1);
    // a queue that moved by choice was let go first, and was never lost
    expect(a.told.left.length).toBeGreaterThanOrEqual(20);
    expect(a.told.lost).toEqual([]);

    // c dies: it beats no more and gives nothing up; a and b take its queues once the leases run out
    const dead = c.replica.written();
    await c.replica.quiet();
    started.splice(started.indexOf(c.replica), 1);
    const alive = [a.replica, b.replica];
    await until(alive, () => counts(alive).join() === '15,15');
    for (const q of dead) expect(alive.some((r) => r.writes(q))).toBe(true);
    expect(alive.filter((r) => r.watches())).toHaveLength(1);
  });

  it('does not move a busy queue by choice', async () => {
    const pool = await withQueues(4);
    const busy = new Set(['q0', 'q1', 'q2', 'q3']);
    const a = await join(pool, busy);
    const b = await join(pool);
    // several beats: a keeps its busy queues, b gets none
    await new Promise((ok) => setTimeout(ok, TTL_MS * 2));
    expect(a.replica.written()).toHaveLength(4);
    expect(b.replica.written()).toEqual([]);
    // once two are idle, they move
    busy.delete('q0');
    busy.delete('q1');
    await until([a.replica, b.replica], () => b.replica.written().length === 2);
    expect(b.replica.written().sort()).toEqual(['q0', 'q1']);
    expect(a.told.left.sort()).toEqual(['q0', 'q1']);
  });

  it('takes a queue nobody knew as soon as an item is stored for it, not at its next beat', async () => {
    const pool = await withQueues(0);
    // a minute's lease: the next beat is 7.5 s away, past the 3 s this waits
    const a = await join(pool, new Set(), 60_000);
    await a.replica.forward('new', () =>
      pool.query("INSERT INTO ost_inbox (queue, item, received_by) VALUES ('new', '{}', 'x')"),
    );
    for (let i = 0; i < 30 && !a.replica.writes('new'); i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(a.replica.writes('new')).toBe(true);
    expect(a.told.gained).toEqual(['new']);
  });

  it("takes a dead replica's queues as soon as their leases run out, not at its next beat", async () => {
    const pool = await withQueues(2);
    // a replica that died a minute ago, whose leases run out in 1.5 s
    await pool.query("INSERT INTO ost_replicas (name, seen_at) VALUES ('dead', now() - interval '1 minute')");
    await pool.query(
      `INSERT INTO ost_leases (name, holder, token, expires_at)
       SELECT 'queue:' || q, 'dead', nextval('ost_fencing_tokens'), now() + interval '1500 milliseconds'
       FROM unnest(ARRAY['q0', 'q1']) AS q`,
    );
    // a minute's lease: the next regular beat is 7.5 s away
    const a = await join(pool, new Set(), 60_000);
    expect(a.replica.written()).toEqual([]);
    // a replica that joins later is not the eldest: it takes queues only within its share
    const b = await join(pool, new Set(), 60_000);
    for (let i = 0; i < 40 && a.replica.written().length < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
    expect(a.replica.written().sort()).toEqual(['q0', 'q1']);
    expect(b.replica.written()).toEqual([]);
  });
});
