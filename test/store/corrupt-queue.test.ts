// A queue file that cannot be read (a flipped byte, a file cut short) stops only that queue: the
// server starts, the log names the file, the other queues go on, and the file is left as it was.
import { readdir, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { createLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { noopPerformer } from '../helpers/web.ts';

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
      files.find((f) => f.startsWith('git_bad'))!,
    );
    const bytes = Buffer.from(await readFile(badFile));
    bytes[0] = bytes[0]! ^ 0x20; // "{" becomes "[": not the JSON it was
    await writeFile(badFile, bytes);

    const lines: string[] = [];
    const log = createLogger({
      level: 'error',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const store = new LowdbStore(dir);
    const engine = new Engine({ store, performer: noopPerformer, log });
    await engine.recover();
    expect(lines.join('')).toContain(`queue file ${badFile} cannot be read`);
    expect(await store.listQueues()).toEqual(['git:good@main']);
    await engine.submit('git:good@main', merged('good', 'ccc'));
    expect(Object.keys((await store.loadQueue('git:good@main'))!.state.changes)).toHaveLength(2);
    // an event for the broken queue is refused, and its file stays byte for byte as it was
    await expect(engine.submit('git:bad@main', merged('bad', 'ddd'))).rejects.toThrow(/not readable JSON/);
    expect(Buffer.compare(await readFile(badFile), bytes)).toBe(0);
  });
});
