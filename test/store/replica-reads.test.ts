// How a replica reads a queue another replica writes, on a real PostgreSQL: its copy is brought up to
// date from the journal records written since (not read whole), and read whole again only once a
// snapshot has taken those records in. Either way it ends equal to a fresh read.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { createLogger } from '../../src/log.ts';
import { migrate } from '../../src/store/pg/migrate.ts';
import { PgStore } from '../../src/store/pg/pg-store.ts';
import { noopPerformer } from '../helpers/web.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { mergedAfter } from '../helpers/queue.ts';

const quiet = createLogger({ level: 'silent' });
const postgres = usePostgres();

async function writerAndReader(snapshotMinJournalBytes: number) {
  const pool = await postgres.freshPool();
  await migrate(pool, quiet);
  const writerStore = new PgStore({ pool });
  const readerStore = new PgStore({ pool });
  const loads = { whole: 0, caughtUp: [] as string[] };
  const load = readerStore.loadQueue.bind(readerStore);
  readerStore.loadQueue = (name) => {
    loads.whole++;
    return load(name);
  };
  const after = readerStore.journalAfter.bind(readerStore);
  readerStore.journalAfter = (name, seq) => {
    loads.caughtUp.push(name);
    return after(name, seq);
  };
  const forward = () => Promise.reject(new Error('not in this test'));
  const writer = new Engine({
    store: writerStore,
    performer: noopPerformer,
    snapshotMinJournalBytes,
    role: { writes: () => true, holds: () => true, forward },
  });
  const reader = new Engine({
    store: readerStore,
    performer: noopPerformer,
    role: { writes: () => false, holds: () => false, forward },
  });
  return { writer, reader, loads, writerStore };
}

describe('a queue another replica writes, read by this one', () => {
  it('is brought up to date from the records written since, in place', async () => {
    const { writer, reader, loads, writerStore } = await writerAndReader(1024 * 1024);
    await writer.submit('q', mergedAfter('a', 'base'));
    const copy = await reader.reads.queue('q');
    expect(copy!.state.active).toEqual(['a']);
    expect(loads.whole).toBe(1);

    await writer.submit('q', mergedAfter('b', 'sha-a'));
    await writer.submit('q', mergedAfter('c', 'sha-b'));
    // until it is marked behind, the copy is what was read
    expect((await reader.reads.queue('q'))!.state.active).toEqual(['a']);
    reader.reads.markStale();
    const caughtUp = await reader.reads.queue('q');
    expect(caughtUp).toBe(copy);
    expect(caughtUp!.state.active).toEqual(['a', 'b', 'c']);
    expect(loads.whole).toBe(1);
    expect(JSON.stringify(caughtUp)).toBe(JSON.stringify(await readQueue(writerStore, 'q')));
    // a change found by the read model through the caught-up copy
    expect((await reader.reads.change('c'))?.queue).toBe('q');
  });

  it('is read whole again once a snapshot took the records in', async () => {
    const { writer, reader, loads, writerStore } = await writerAndReader(1);
    await writer.submit('q', mergedAfter('a', 'base'));
    expect((await reader.reads.queue('q'))!.state.active).toEqual(['a']);
    await writer.submit('q', mergedAfter('b', 'sha-a'));
    reader.reads.markStale();
    const again = await reader.reads.queue('q');
    expect(again!.state.active).toEqual(['a', 'b']);
    expect(loads.whole).toBe(2);
    expect(JSON.stringify(again)).toBe(JSON.stringify(await readQueue(writerStore, 'q')));
  });

  it("finds a run another replica just made by bringing only that run's queue up to date", async () => {
    const { writer, reader, loads } = await writerAndReader(1024 * 1024);
    for (const q of ['q1', 'q2', 'q3']) await writer.submit(q, mergedAfter(`${q}-a`, 'base'));
    // the reader knows every queue, as after any earlier lookup
    expect(await reader.reads.change('q3-a')).not.toBeNull();
    const first = Object.keys((await writer.reads.queue('q2'))!.state.runs)[0]!;
    await writer.submit('q2', { type: 'run-finished', at: 1, key: first, status: 'success' });
    await writer.submit('q2', mergedAfter('q2-b', 'sha-q2-a'));
    await writer.submit('q2', { type: 'tick', at: 24 * 3600_000 }); // past any batch hold
    const file = (await writer.reads.queue('q2'))!;
    const key = Object.keys(file.state.runs).find((k) => file.state.runs[k]!.changes.includes('q2-b'));
    expect(key).toBeDefined();
    reader.reads.markStale();
    loads.caughtUp.length = 0;
    const found = await reader.reads.run({ key: key! });
    expect(found?.queue).toBe('q2');
    expect(loads.caughtUp).toEqual(['q2']);
    // a key no queue made: every copy is brought up to date before the answer is no
    expect(await reader.reads.run({ key: 'nobody.1-abc' })).toBeNull();
    expect(loads.caughtUp.slice(1).sort()).toEqual(['q1', 'q2', 'q3']);
  });
});
