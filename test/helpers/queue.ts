// A queue for HTTP-level tests: a store in a fresh temporary directory and the real engine (its
// effects go nowhere), with one merged change, `git:app@aaa`, in queue `git:app@main`; and a merge of
// one change on that stream, after a given commit.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreEvent } from '../../src/core/index.ts';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { noopPerformer } from './web.ts';

export const QUEUE = 'git:app@main';
export const CHANGE = 'git:app@aaa';

export async function queueWithOneChange(options: Partial<EngineOptions> = {}) {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-queue-')));
  const engine = new Engine({ store, performer: noopPerformer, ...options });
  await engine.submit(QUEUE, {
    type: 'merged',
    at: 0,
    stream: { host: 'git', project: 'app', branch: 'main' },
    changes: [{ id: CHANGE, sha: 'aaa', title: 'a' }],
  });
  return { store, engine };
}

/** Change `id` (commit `sha-<id>`) merged on git:app@main after commit `before`. */
export const mergedAfter = (id: string, before: string): CoreEvent => ({
  type: 'merged',
  at: 0,
  stream: { host: 'git', project: 'app', branch: 'main' },
  before,
  after: `sha-${id}`,
  changes: [{ id, sha: `sha-${id}`, parent: before }],
});
