// Tests of the lowdb store: safe file names, snapshots and journals (torn lines, damage, checksums),
// atomic writes, and the history file.
import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { safeSlug } from '../../src/store/slug.ts';
import type { JournalRecord } from '../../src/store/types.ts';
import { emptyQueueFile } from '../helpers/stores.ts';
import { readQueue, replay } from '../../src/engine/replay.ts';

const readQueueFrom = (stored: Parameters<typeof replay>[0]) => replay(stored, 'q');

const file = (name: string) => emptyQueueFile(name);

describe('safeSlug', () => {
  it('only ever yields plain file names, and distinct names yield distinct slugs', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), (a, b) => {
        for (const s of [safeSlug(a), safeSlug(b)]) {
          expect(s).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
          expect(s).not.toContain('..');
          expect(s.length).toBeLessThanOrEqual(73);
        }
        if (a !== b) expect(safeSlug(a)).not.toBe(safeSlug(b));
      }),
    );
    expect(safeSlug('../../etc/passwd')).not.toContain('/');
    expect(safeSlug('0..')).not.toContain('..'); // found by the property in CI: inner dots kept a '..'
    expect(safeSlug('a/b')).not.toBe(safeSlug('a_b'));
  });
});

const record = (n: number, message: string): JournalRecord => ({
  n,
  type: 'notice',
  notice: { at: n, level: 'info', code: 'x', message },
});

async function storeWithJournal() {
  const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
  const store = new LowdbStore(dir);
  await store.writeSnapshot(file('q'));
  for (let n = 1; n <= 3; n++) await store.appendJournal('q', record(n, `notice ${n}`));
  await store.close();
  return {
    dir,
    journal: join(dir, 'queues', `${safeSlug('q')}.journal`),
    snapshot: join(dir, 'queues', `${safeSlug('q')}.json`),
  };
}

describe('LowdbStore', () => {
  it('keeps each queue in its own files under queues/, named safely, and lists queues by their real names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    await store.writeSnapshot(file('github:o/r@main'));
    await store.writeSnapshot(file('../../escape'));
    await store.appendJournal('../../escape', record(1, 'hello'));
    const files = await readdir(join(dir, 'queues'));
    expect(files).toHaveLength(4); // a snapshot and a journal each
    expect(files.every((f) => !f.includes('/') && /\.(json|journal)$/.test(f))).toBe(true);
    expect(await store.listQueues()).toEqual(['../../escape', 'github:o/r@main']);
    expect((await readQueue(store, 'github:o/r@main'))!.name).toBe('github:o/r@main');
    expect((await readQueue(store, '../../escape'))!.notices.map((n) => n.message)).toEqual(['hello']);
    expect(await readQueue(store, 'unknown')).toBeNull();
  });

  it('gives the snapshot and the records after it; a new snapshot empties the journal', async () => {
    const { dir, journal } = await storeWithJournal();
    const store = new LowdbStore(dir);
    const stored = (await store.loadQueue('q'))!;
    expect(stored.journal.map((r) => r.n)).toEqual([1, 2, 3]);
    const f = readQueueFrom(stored);
    expect(f.journalSeq).toBe(3);
    await store.writeSnapshot(f);
    expect(await readFile(journal, 'utf8')).toBe('');
    expect((await new LowdbStore(dir).loadQueue('q'))!.journal).toEqual([]);
    expect(readQueueFrom((await new LowdbStore(dir).loadQueue('q'))!).notices).toHaveLength(3);
  });

  it('skips records a snapshot already holds (a crash between the snapshot and emptying the journal)', async () => {
    const { dir, journal } = await storeWithJournal();
    const text = await readFile(journal, 'utf8');
    const store = new LowdbStore(dir);
    const f = readQueueFrom((await store.loadQueue('q'))!);
    await store.writeSnapshot(f);
    await writeFile(journal, text); // the old records are back, as if the emptying never happened
    const again = (await new LowdbStore(dir).loadQueue('q'))!;
    expect(again.journal).toEqual([]);
    expect(readQueueFrom(again).notices).toHaveLength(3);
  });

  it('drops a last journal line cut short by a crash, says so, and appends after it cleanly', async () => {
    const { dir, journal } = await storeWithJournal();
    const whole = await readFile(journal);
    await truncate(journal, whole.length - 5);
    const reader = new LowdbStore(dir, { readOnly: true });
    expect((await reader.loadQueue('q'))!.journal).toHaveLength(2);
    expect((await readFile(journal)).length).toBe(whole.length - 5); // a reader changes nothing
    const store = new LowdbStore(dir);
    const stored = (await store.loadQueue('q'))!;
    expect(stored.torn).toEqual({ file: journal, bytes: whole.toString().split('\n')[2]!.length - 4 });
    expect(stored.journal.map((r) => r.n)).toEqual([1, 2]);
    expect((await readFile(journal)).length).toBe(whole.length - 5); // loading changes nothing either
    await store.appendJournal('q', record(3, 'again')); // the first append cuts the torn line off
    const after = (await new LowdbStore(dir).loadQueue('q'))!;
    expect(after.torn).toBeUndefined();
    expect(readQueueFrom(after).notices.map((n) => n.message)).toEqual(['notice 1', 'notice 2', 'again']);
  });

  it('refuses a snapshot with a flipped byte, naming the file, and changes nothing', async () => {
    const { dir, snapshot, journal } = await storeWithJournal();
    const bytes = await readFile(snapshot);
    const at = bytes.indexOf('"historyMoved":0') + '"historyMoved":'.length;
    bytes[at] = '7'.charCodeAt(0); // still JSON, but not what was written
    await writeFile(snapshot, bytes);
    const journalBefore = await readFile(journal);
    const store = new LowdbStore(dir);
    await expect(store.loadQueue('q')).rejects.toThrow(`snapshot ${snapshot} does not match its checksum`);
    expect(await store.listQueues()).toEqual([]);
    expect((await store.unreadableFiles())[0]).toMatchObject({ file: snapshot });
    expect(Buffer.compare(await readFile(snapshot), bytes)).toBe(0);
    expect(Buffer.compare(await readFile(journal), journalBefore)).toBe(0);
  });

  it('refuses a journal damaged before its last line, naming the file and line', async () => {
    const { dir, journal } = await storeWithJournal();
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"notice 2"', '"notice 2');
    await writeFile(journal, lines.join('\n'));
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(`journal ${journal} line 2 is damaged`);
    lines[1] = JSON.stringify(record(5, 'out of order'));
    await writeFile(journal, lines.join('\n'));
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(/line 2 is out of order/);
  });

  it('writes atomically: a temporary file left by a crash never replaces the last complete snapshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    const f = file('q');
    f.notices.push({ at: 1, level: 'info', code: 'x', message: 'first' });
    await store.writeSnapshot(f);
    // a crash in the middle of the next write leaves a partial temporary file behind
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json.tmp-1-1`), '{"schema":1,"name":"q","sta');
    const fresh = new LowdbStore(dir);
    expect((await readQueue(fresh, 'q'))!.notices[0]!.message).toBe('first');
    expect(await fresh.listQueues()).toEqual(['q']);
  });

  it('reads a queue file from before checksums, and refuses one that holds another queue', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    await mkdir(join(dir, 'queues'));
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json`), JSON.stringify(file('q')));
    expect((await readQueue(new LowdbStore(dir), 'q'))!.name).toBe('q');
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json`), JSON.stringify(file('other')));
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(/holds queue "other"/);
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json`), '{broken');
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(/is not JSON/);
  });

  it('appends history as numbered JSON lines and reads each number once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    const v = (change: string) => ({ change, verdict: 'passed' as const, at: 1 });
    await store.appendHistory('q', [v('a'), v('b')], 0);
    await store.appendHistory('q', [v('b'), v('c')], 1); // a crash made "b" go twice
    expect((await store.readHistory('q', 10)).map((x) => x.change)).toEqual(['a', 'b', 'c']);
    expect((await store.readHistory('q', 2)).map((x) => x.change)).toEqual(['b', 'c']);
  });
});
