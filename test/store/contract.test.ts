// The store contract (src/store/types.ts), held by both stores: the embedded one and PostgreSQL.
// Snapshots and the journal after them, sizes that decide the next snapshot, queue names as given,
// history numbered once and paged by time, and all of it read back by a store opened again.
import { describe, expect, it } from 'vitest';
import type { VerdictRecord } from '../../src/core/index.ts';
import { replay } from '../../src/engine/replay.ts';
import { DAYS_KEPT } from '../../src/engine/health.ts';
import { trendPeriods } from '../../src/engine/trends.ts';
import type { JournalRecord } from '../../src/store/types.ts';
import { emptyQueueFile, STORE_KINDS, storeKinds } from '../helpers/stores.ts';

const stores = storeKinds();

const file = (name: string) => emptyQueueFile(name);

const notice = (n: number, message = `notice ${n}`): JournalRecord => ({
  n,
  type: 'notice',
  notice: { at: n, level: 'info', code: 'x', message },
});

const verdict = (change: string, at: number): VerdictRecord => ({ change, verdict: 'passed', at });

describe.each(STORE_KINDS)('the %s store', (kind) => {
  it('has no queue before its first snapshot, then the snapshot and the records after it, in order', async () => {
    const { store, reopen } = await stores.make(kind);
    expect(await store.loadQueue('q')).toBeNull();
    await store.writeSnapshot(file('q'));
    expect(await store.loadQueue('q')).toEqual({ snapshot: file('q'), journal: [] });
    for (let n = 1; n <= 3; n++) await store.appendJournal('q', notice(n));
    const stored = (await reopen().loadQueue('q'))!;
    expect(stored.journal.map((r) => r.n)).toEqual([1, 2, 3]);
    expect(stored.journal[2]).toEqual(notice(3));
    expect(replay(stored, 'q').notices.map((n) => n.message)).toEqual(['notice 1', 'notice 2', 'notice 3']);
  });

  it('a snapshot takes in the records it includes: they are not given again, the journal size starts over', async () => {
    const { store, reopen } = await stores.make(kind);
    await store.writeSnapshot(file('q'));
    const sizes = [];
    for (let n = 1; n <= 3; n++) sizes.push(await store.appendJournal('q', notice(n, 'x'.repeat(100))));
    expect(sizes[0]!.journalBytes).toBeGreaterThan(100);
    expect(sizes[2]!.journalBytes).toBeGreaterThanOrEqual(3 * sizes[0]!.journalBytes - 10);
    expect(sizes[0]!.snapshotBytes).toBeGreaterThan(100);
    const queue = replay((await store.loadQueue('q'))!, 'q');
    expect(queue.journalSeq).toBe(3);
    await store.writeSnapshot(queue);
    const after = await store.appendJournal('q', notice(4, 'x'.repeat(100)));
    expect(after.journalBytes).toBe(sizes[0]!.journalBytes);
    const stored = (await reopen().loadQueue('q'))!;
    expect(stored.journal.map((r) => r.n)).toEqual([4]);
    expect(replay(stored, 'q').notices).toHaveLength(4);
    // a store opened again counts the journal it finds
    const again = reopen();
    await again.loadQueue('q');
    expect((await again.appendJournal('q', notice(5, 'x'.repeat(100)))).journalBytes).toBe(2 * after.journalBytes);
  });

  it('keeps a year of per-day figures in the snapshot, for the trends page', async () => {
    const { store, reopen } = await stores.make(kind);
    const start = Date.UTC(2025, 11, 1);
    const health = Array.from({ length: DAYS_KEPT }, (_, i) => ({
      day: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
      runs: i % 7,
      verdicts: i % 5,
      failures: i % 3,
      flakes: i % 2,
      culprits: i % 11 === 0 ? 1 : 0,
      merged: i % 5,
      depth: i % 9,
      ttv: [i % 4, 0, 1],
    }));
    await store.writeSnapshot({ ...file('q'), health });
    const again = replay((await reopen().loadQueue('q'))!, 'q');
    expect(again.health).toEqual(health);
    const now = start + (DAYS_KEPT - 1) * 86_400_000;
    expect(trendPeriods(again.health!, now, '1y')).toEqual(trendPeriods(health, now, '1y'));
  });

  it('keeps queue names exactly as given and lists them sorted', async () => {
    const { store, reopen } = await stores.make(kind);
    const names = ['github:o/r@main', '../../escape', 'gerrit:review.example.org/a/b@stable-1.0', 'ünïcode q'];
    for (const name of names) await store.writeSnapshot(file(name));
    await store.appendJournal('../../escape', notice(1, 'hello'));
    expect(await reopen().listQueues()).toEqual([...names].sort());
    expect(replay((await reopen().loadQueue('../../escape'))!, '../../escape').notices[0]!.message).toBe('hello');
    expect(await store.loadQueue('unknown')).toBeNull();
  });

  it('keeps each history number once and reads the newest, oldest first', async () => {
    const { store, reopen } = await stores.make(kind);
    await store.appendHistory('q', [verdict('a', 1), verdict('b', 2)], 0);
    await store.appendHistory('q', [verdict('b', 2), verdict('c', 3)], 1); // a crash made "b" go twice
    expect((await reopen().readHistory('q', 10)).map((v) => v.change)).toEqual(['a', 'b', 'c']);
    expect((await store.readHistory('q', 2)).map((v) => v.change)).toEqual(['b', 'c']);
    expect(await store.readHistory('other', 10)).toEqual([]);
  });

  it('pages the history newest first by time, never splitting verdicts given at the same moment', async () => {
    const { store } = await stores.make(kind);
    const times = [1, 2, 3, 3, 3, 4, 5, 6, 6, 7];
    await store.appendHistory(
      'q',
      times.map((at, i) => verdict(`c${i}`, at)),
      0,
    );
    const first = await store.readHistoryPage('q', undefined, 4);
    expect(first.verdicts.map((v) => v.change)).toEqual(['c9', 'c8', 'c7', 'c6']);
    expect(first.more).toBe(true);
    const second = await store.readHistoryPage('q', first.verdicts.at(-1)!.at, 3);
    // c5 (4) then c4 (3); c3 and c2 were given at the same moment as c4, so they come too
    expect(second.verdicts.map((v) => v.change)).toEqual(['c5', 'c4', 'c3', 'c2']);
    expect(second.more).toBe(true);
    const last = await store.readHistoryPage('q', 3, 10);
    expect(last).toEqual({ verdicts: [verdict('c1', 2), verdict('c0', 1)], more: false });
    expect(await store.readHistoryPage('none', undefined, 5)).toEqual({ verdicts: [], more: false });
  });

  it("keeps a run's log, the last one given, and none for a run without one", async () => {
    const { store, reopen } = await stores.make(kind);
    await store.keepRunLog('q.1-abc', 'line 1\n');
    await store.keepRunLog('q.1-abc', 'line 1\nline 2\n');
    await store.keepRunLog('../../etc/passwd#1', 'elsewhere\n');
    const again = reopen();
    expect(await again.readRunLog('q.1-abc')).toBe('line 1\nline 2\n');
    expect(await again.readRunLog('../../etc/passwd#1')).toBe('elsewhere\n');
    expect(await again.readRunLog('q.2-def')).toBeNull();
  });
});
