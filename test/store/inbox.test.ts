// The inbox between replicas on a real PostgreSQL: what a replica accepts for a queue it does not
// write is stored (a redelivery adds nothing) and the drain of the queue's writer applies it in order, once, even when a crash came between
// applying and deleting; an item that cannot be applied is kept aside with why.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { InboxDrain } from '../../src/engine/inbox-drain.ts';
import { createLogger } from '../../src/log.ts';
import { PgInbox } from '../../src/store/pg/inbox.ts';
import { QueueLeases, queueLeaseName } from '../../src/store/pg/queue-leases.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { PgStore } from '../../src/store/pg/pg-store.ts';
import { noopPerformer } from '../helpers/web.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { mergedAfter } from '../helpers/queue.ts';

const quiet = createLogger({ level: 'silent' });
const postgres = usePostgres();

/** A writer and a reader on one fresh database, each with its own pool, store and engine. */
async function twoReplicas() {
  const url = await postgres.server().database();
  const writerPool = postgres.pool(url);
  const readerPool = postgres.pool(url);
  await migrate(writerPool, quiet);
  const leases = new QueueLeases(writerPool, 'w', 60_000);
  expect(await leases.take(['q', 'other'], 2, { aliveMs: 2_500, eldest: true })).toHaveLength(2);
  const fence = { lease: queueLeaseName, token: (q: string) => leases.token(q) };
  const writerStore = new PgStore({ pool: writerPool, fence });
  const inbox = new PgInbox(readerPool, 'r');
  const writer = new Engine({
    store: writerStore,
    performer: noopPerformer,
    role: {
      writes: () => true,
      holds: () => true,
      forward: () => Promise.reject(new Error('the writer forwards nothing')),
    },
  });
  const reader = new Engine({
    store: new PgStore({ pool: readerPool, fence: { lease: queueLeaseName, token: () => null } }),
    performer: noopPerformer,
    role: { writes: () => false, holds: () => false, forward: (q, item, d) => inbox.put(q, item, d) },
  });
  const drain = new InboxDrain({
    inbox: new PgInbox(writerPool, 'w'),
    engine: writer,
    log: quiet,
    intervalMs: 60_000,
    queues: () => leases.queues(),
  });
  return { writer, reader, inbox, drain, writerPool };
}

describe('the inbox', () => {
  it('takes what a reader accepts once and the writer applies it in order', async () => {
    const { writer, reader, inbox, drain, writerPool } = await twoReplicas();
    expect(reader.forwarding('q')).toBe(true);
    expect(await reader.submit('q', mergedAfter('a', 'base'), { delivery: 'd1' })).toBe(true);
    expect(await reader.submit('q', mergedAfter('b', 'sha-a'), { delivery: 'd2' })).toBe(true);
    expect(await reader.submit('q', mergedAfter('a', 'base'), { delivery: 'd1' })).toBe(false); // a redelivery
    await reader.submit('other', mergedAfter('x', 'base'));
    expect(await inbox.counts()).toEqual({ waiting: 3, failed: 0 });
    expect(await reader.reads.queue('q')).toBeNull(); // nothing applied yet

    expect(await drain.drainOnce()).toBe(3);
    expect(await inbox.counts()).toEqual({ waiting: 0, failed: 0 });
    expect((await writer.reads.queue('q'))!.state.active).toEqual(['a', 'b']);
    reader.reads.markStale();
    expect((await reader.reads.queue('q'))!.state.active).toEqual(['a', 'b']);
    expect((await reader.reads.queue('other'))!.state.active).toEqual(['x']);

    // a crash between applying and deleting: the item is applied again, and changes nothing
    await reader.submit('q', mergedAfter('c', 'sha-b'), { delivery: 'd3' });
    const [row] = await new PgInbox(writerPool, 'w').next(10, ['q']);
    await writer.applyForwarded(row!.queue, row!.item, row!.delivery);
    const journal = async () => Number((await writerPool.query('SELECT count(*) AS n FROM ost_journal')).rows[0].n);
    const before = await journal();
    expect(await drain.drainOnce()).toBe(1);
    expect(await journal()).toBe(before);
    expect((await writer.reads.queue('q'))!.state.active).toEqual(['a', 'b', 'c']);
  });

  it('keeps an item the writer cannot apply aside, with why, and goes on with the next', async () => {
    const { writer, reader, inbox, drain } = await twoReplicas();
    await writer.submit('q', mergedAfter('a', 'base'), { setup: { owner: 'github:o/first' } });
    await reader.submit('q', { type: 'configure', at: 1, settings: {} }, { setup: { owner: 'github:o/second' } });
    await reader.submit('q', mergedAfter('b', 'sha-a'), { delivery: 'd2' });
    expect(await drain.drainOnce()).toBe(1);
    expect(await inbox.counts()).toEqual({ waiting: 0, failed: 1 });
    expect((await writer.reads.queue('q'))!.state.active).toEqual(['a', 'b']);
  });

  it('is not applied by a replica that stopped writing: the items wait for the next writer', async () => {
    const { reader, inbox } = await twoReplicas();
    await reader.submit('q', mergedAfter('a', 'base'), { delivery: 'd1' });
    const demoted = new InboxDrain({ inbox, engine: reader, log: quiet, intervalMs: 60_000, queues: () => ['q'] });
    expect(await demoted.drainOnce()).toBe(0);
    expect(await inbox.counts()).toEqual({ waiting: 1, failed: 0 });
  });
});
