// Tests of the lowdb store: safe file names, atomic writes, and the history file.
import fc from 'fast-check';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyQueue } from '../../src/core/index.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { safeSlug } from '../../src/store/slug.ts';
import type { QueueFile } from '../../src/store/types.ts';

const file = (name: string): QueueFile => ({
  schema: 1,
  name,
  state: emptyQueue(name),
  outbox: [],
  notices: [],
  deliveries: [],
  historyMoved: 0,
});

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

describe('LowdbStore', () => {
  it('keeps each queue in its own file under queues/, named safely, and lists queues by their real names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    await store.saveQueue(file('github:o/r@main'));
    await store.saveQueue(file('../../escape'));
    const files = await readdir(join(dir, 'queues'));
    expect(files).toHaveLength(2);
    expect(files.every((f) => !f.includes('/') && f.endsWith('.json'))).toBe(true);
    expect(await store.listQueues()).toEqual(['../../escape', 'github:o/r@main']);
    expect((await store.loadQueue('github:o/r@main'))!.name).toBe('github:o/r@main');
    expect(await store.loadQueue('unknown')).toBeNull();
  });

  it('writes atomically: a temporary file left by a crash never replaces the last complete write', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    const f = file('q');
    f.notices.push({ at: 1, level: 'info', code: 'x', message: 'first' });
    await store.saveQueue(f);
    // a crash in the middle of the next write leaves a partial temporary file behind
    const path = join(dir, 'queues', `${safeSlug('q')}.json`);
    await writeFile(join(dir, 'queues', `.${safeSlug('q')}.json.tmp`), '{"schema":1,"name":"q","sta');
    const fresh = new LowdbStore(dir);
    expect((await fresh.loadQueue('q'))!.notices[0]!.message).toBe('first');
    expect(JSON.parse(await readFile(path, 'utf8')).name).toBe('q');
  });

  it('refuses a queue file that holds another queue, and explains an unreadable one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-store-'));
    const store = new LowdbStore(dir);
    await store.saveQueue(file('q'));
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json`), JSON.stringify(file('other')));
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(/holds queue "other"/);
    await writeFile(join(dir, 'queues', `${safeSlug('q')}.json`), '{broken');
    await expect(new LowdbStore(dir).loadQueue('q')).rejects.toThrow(/not readable JSON/);
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
