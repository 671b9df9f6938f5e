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
  const loads = { whole: 0 };
  const load = readerStore.loadQueue.bind(readerStore);
  readerStore.loadQueue = (name) => {
    loads.whole++;
    return load(name);
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
});
