// A queue snapshot that cannot be read (a flipped byte) stops only that queue: the server starts, the
// log names the file, the other queues go on, and the files are left as they were. A journal record
// cut short by a crash is dropped and logged.
import { mkdtemp, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { noopPerformer } from '../helpers/web.ts';
import { readQueue } from '../../src/engine/replay.ts';

const merged = (project: string, sha: string) => ({
  type: 'merged' as const,
  at: 0,
  stream: { host: 'git', project, branch: 'main' },
  changes: [{ id: `git:${project}@${sha}`, sha, title: sha }],
});

describe('a corrupt queue file', () => {
  it('is reported by name and left untouched, while the other queues start and take events', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-corrupt-'));
    const first = new Engine({ store: new LowdbStore(dir), performer: noopPerformer });
    await first.submit('git:good@main', merged('good', 'aaa'));
    await first.submit('git:bad@main', merged('bad', 'bbb'));
    const files = await readdir(join(dir, 'queues'));
    const badFile = join(
      dir,
      'queues',
      files.find((f) => f.startsWith('git_bad') && f.endsWith('.json'))!,
    );
    await first.close(); // a snapshot of each queue, holding what its journal had
    const bytes = Buffer.from(await readFile(badFile));
    const at = bytes.indexOf('"title":"bbb"') + '"title":"b'.length;
    bytes[at] = 'c'.charCodeAt(0); // still JSON, but not what was written
    await writeFile(badFile, bytes);
    const journal = badFile.replace(/\.json$/, '.journal');
    const journalBytes = await readFile(journal);

    const lines: string[] = [];
    const log = createLogger({
      level: 'error',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const store = new LowdbStore(dir);
    const engine = new Engine({ store, performer: noopPerformer, log });
    await engine.recover();
    expect(lines.join('')).toContain(
      `queue file ${badFile} cannot be read (snapshot ${badFile} does not match its checksum`,
    );
    expect(await store.listQueues()).toEqual(['git:good@main']);
    await engine.submit('git:good@main', merged('good', 'ccc'));
    expect(Object.keys((await readQueue(store, 'git:good@main'))!.state.changes)).toHaveLength(2);
    // an event for the broken queue is refused, and its file stays byte for byte as it was
    await expect(engine.submit('git:bad@main', merged('bad', 'ddd'))).rejects.toThrow(/does not match its checksum/);
    expect(Buffer.compare(await readFile(badFile), bytes)).toBe(0);
    expect(Buffer.compare(await readFile(journal), journalBytes)).toBe(0);
  });

  it('drops a journal record cut short by a crash, logs it, and goes on from the record before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-torn-'));
    const first = new Engine({ store: new LowdbStore(dir), performer: noopPerformer });
    await first.submit('git:app@main', merged('app', 'aaa'));
    await first.submit('git:app@main', merged('app', 'bbb'));
    const journal = join(
      dir,
      'queues',
      (await readdir(join(dir, 'queues'))).find((f) => f.endsWith('.journal'))!,
    );
    const { size } = await stat(journal);
    await truncate(journal, size - 7); // the last record lost its end in a crash

    const lines: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const engine = new Engine({ store: new LowdbStore(dir), performer: noopPerformer, log });
    await engine.recover();
    expect(lines.join('')).toMatch(
      new RegExp(`journal ${journal} ended in a record cut short by a crash \\(\\d+ bytes\\): dropped`),
    );
    const changes = Object.keys((await engine.reads.queue('git:app@main'))!.state.changes);
    expect(changes).toContain('git:app@aaa');
    // the record that was cut short never counted; its event, delivered again, is applied
    await engine.submit('git:app@main', merged('app', 'ccc'));
    expect(
      Object.keys((await readQueue(new LowdbStore(dir, { readOnly: true }), 'git:app@main'))!.state.changes),
    ).toEqual(expect.arrayContaining(['git:app@aaa', 'git:app@ccc']));
  });
});
