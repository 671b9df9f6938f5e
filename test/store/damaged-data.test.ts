// Stored data is checked before it is trusted: every journal record carries a checksum, so that a
// flipped byte is found even where the JSON stays valid; a queue whose files are damaged is stopped
// and its pages answer 503 with the reason; a deleted snapshot is reported at start-up; a store that
// cannot be written (a full disk) is a 503 with the reason, and /healthz says so until a write works.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { CorruptJournalError } from '../../src/store/journal-file.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import type { JournalRecord } from '../../src/store/types.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { noopPerformer } from '../helpers/web.ts';

const merged = (sha: string, title = sha) => ({
  type: 'merged' as const,
  at: 0,
  stream: { host: 'git', project: 'app', branch: 'main' },
  changes: [{ id: `git:app@${sha}`, sha, title }],
});
const QUEUE = 'git:app@main';

/** A data directory whose queue has a snapshot and a journal of a few records. */
async function queueWithJournal() {
  const dir = await mkdtemp(join(tmpdir(), 'ost-damage-'));
  const engine = new Engine({ store: new LowdbStore(dir), performer: noopPerformer });
  for (const sha of ['aaa', 'bbb', 'ccc', 'ddd']) await engine.submit(QUEUE, merged(sha, `c1 Change ${sha}`));
  const files = await readdir(join(dir, 'queues'));
  const journal = join(
    dir,
    'queues',
    files.find((f) => f.endsWith('.journal'))!,
  );
  return { dir, journal };
}

/** A small seeded generator, so that the thousand flips are the same on every run. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const servers: { close(): void }[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function serve(engine: Engine) {
  nock.enableNetConnect('127.0.0.1');
  const server = createHttpServer({ engine, log: silentLogger });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('journal checksums', () => {
  it('finds every one of 1,000 single flipped bytes, one per copy of the journal', async () => {
    const { dir, journal } = await queueWithJournal();
    const original = await readFile(journal);
    const store = new LowdbStore(dir, { readOnly: true });
    expect((await store.loadQueue(QUEUE))!.journal.length).toBeGreaterThan(3);
    const random = seeded(20261202);
    let damaged = 0;
    let torn = 0;
    for (let i = 0; i < 1000; i++) {
      const copy = Buffer.from(original);
      const at = Math.floor(random() * copy.length);
      copy[at] = copy[at]! ^ (1 + Math.floor(random() * 255));
      await writeFile(journal, copy);
      try {
        const loaded = await new LowdbStore(dir, { readOnly: true }).loadQueue(QUEUE);
        // the one byte that may pass as a crash: the last newline, which makes the last record a torn one
        expect(loaded!.torn, `byte ${at} flipped was not found`).toBeDefined();
        expect(at).toBe(copy.length - 1);
        torn++;
      } catch (err) {
        expect(err, `byte ${at}: ${(err as Error).message}`).toBeInstanceOf(CorruptJournalError);
        expect((err as Error).message).toMatch(/^journal .* line \d+ (is damaged|is out of order)/);
        damaged++;
      }
    }
    expect(damaged + torn).toBe(1000);
    await writeFile(journal, original);
  });

  it('refuses a record whose text was changed but still parses ("c1 Xhange"), and names the line', async () => {
    const { dir, journal } = await queueWithJournal();
    const text = await readFile(journal, 'utf8');
    await writeFile(journal, text.replace('c1 Change bbb', 'c1 Xhange bbb'));
    await expect(new LowdbStore(dir, { readOnly: true }).loadQueue(QUEUE)).rejects.toThrow(
      /journal .* line \d+ is damaged: it does not match its checksum/,
    );
  });

  it('still reads a journal written before checksums (bare JSON lines)', async () => {
    const { dir, journal } = await queueWithJournal();
    const lines = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
    await writeFile(journal, lines.map((l) => l.replace(/^[0-9a-f]{16} /, '')).join('\n') + '\n');
    const loaded = await new LowdbStore(dir, { readOnly: true }).loadQueue(QUEUE);
    expect(loaded!.journal.map((r: JournalRecord) => r.n)).toEqual(lines.map((_, i) => i + 1));
  });
});

describe('a queue whose files are damaged', () => {
  it('is stopped: its pages and API answer 503 with the reason, the overview and /healthz name it, its files stay', async () => {
    const { dir, journal } = await queueWithJournal();
    const text = await readFile(journal, 'utf8');
    const bad = text.replace('c1 Change ccc', 'c1 Xhange ccc');
    await writeFile(journal, bad);
    const engine = new Engine({ store: new LowdbStore(dir), performer: noopPerformer });
    await engine.recover();
    const base = await serve(engine);
    for (const path of [`/queues/${encodeURIComponent(QUEUE)}`, `/api/queues/${encodeURIComponent(QUEUE)}`]) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(503);
      expect(await res.text()).toMatch(
        /queue git:app@main is stopped: journal .* is damaged: it does not match its checksum/,
      );
    }
    expect(await (await fetch(`${base}/`)).text()).toMatch(/Stopped queues[\s\S]*git:app@main/);
    const health = await (await fetch(`${base}/healthz`)).json();
    expect(health.stopped_queues).toEqual([
      { queue: QUEUE, reason: expect.stringMatching(/does not match its checksum/) },
    ]);
    // an event for it is refused, and nothing is written
    await expect(engine.submit(QUEUE, merged('eee'))).rejects.toThrow(/is stopped/);
    expect(await readFile(journal, 'utf8')).toBe(bad);
  });

  it('reports a deleted snapshot at start-up, naming the journal left without it', async () => {
    const { dir, journal } = await queueWithJournal();
    const first = new Engine({ store: new LowdbStore(dir), performer: noopPerformer });
    await first.submit(QUEUE, merged('eee'));
    await rm(journal.replace(/\.journal$/, '.json'));
    const lines: string[] = [];
    const log = createLogger({
      level: 'error',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const engine = new Engine({ store: new LowdbStore(dir), performer: noopPerformer, log });
    await engine.recover();
    expect(lines.join('')).toMatch(
      /cannot be read \(its snapshot .*\.json is missing \(deleted\?\), and a journal alone cannot rebuild the queue\)/,
    );
    expect(engine.reads.unavailable()).toEqual([
      { queue: journal, reason: expect.stringMatching(/snapshot .* is missing/) },
    ]);
  });
});

describe('a store that cannot be written', () => {
  /** A store whose disk fills up, as the file system says it: ENOSPC. */
  class FullDiskStore extends LowdbStore {
    full = false;
    override async appendJournal(name: string, record: JournalRecord) {
      if (this.full)
        throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', errno: -28 });
      return super.appendJournal(name, record);
    }
  }

  it('answers 503 with the reason, and /healthz says store: failing until a write succeeds again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-full-'));
    const store = new FullDiskStore(dir);
    const engine = new Engine({ store, performer: noopPerformer });
    await engine.submit(QUEUE, merged('aaa'));
    const base = await serve(engine);
    store.full = true;
    await expect(engine.submit(QUEUE, merged('bbb'))).rejects.toThrow(
      /the store cannot be written; the disk of the data directory is full: free space on it \(ENOSPC\)/,
    );
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      ok: false,
      components: { store: 'failing' },
      store_problem: expect.stringMatching(/ENOSPC/),
    });
    // the change was not taken: nothing acted on, and its sender delivers it again
    store.full = false;
    await engine.submit(QUEUE, merged('bbb'));
    expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ ok: true, components: { store: 'ok' } });
  });
});
