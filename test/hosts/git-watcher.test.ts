// Tests of the git host against real local repositories: order, footers, force-pushes, config handling.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Effect, Run } from '../../src/core/index.ts';
import type { Performer } from '../../src/engine/effects.ts';
import { Engine } from '../../src/engine/engine.ts';
import { GitWatcher } from '../../src/hosts/git/watcher.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { buildVerdictReport, changeTarget } from '../../src/report/model.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { configRules } from '../../src/registry.ts';
import { gitIn } from '../helpers/watched-repo.ts';

const exec = promisify(execFile);
const noop: Performer = {
  perform: async (_e: { key: string; effect: Effect }) => undefined,
  alreadyDone: async () => false,
  resume: async (_r: Run) => undefined,
};
const QUEUE = 'git:app@master';

async function setup(config = 'ci:\n  provider: command:ost\n') {
  const dir = await mkdtemp(join(tmpdir(), 'ost-git-'));
  const repo = join(dir, 'repo');
  await mkdir(repo);
  const git = gitIn(repo);
  await git('init', '-q', '-b', 'master');
  if (config) await writeFile(join(repo, '.ost-gate.yml'), config);
  await writeFile(join(repo, 'README'), 'x\n');
  await git('add', '-A');
  await git('commit', '-qm', 'initial');
  const commit = async (file: string, message: string) => {
    await mkdir(join(repo, file, '..'), { recursive: true });
    await writeFile(join(repo, file), `${message}\n`);
    await git('add', '-A');
    await git('commit', '-qm', message);
    return git('rev-parse', 'HEAD');
  };
  const store = new LowdbStore(join(dir, 'data'));
  const engine = new Engine({ store, performer: noop });
  const watcher = new GitWatcher(
    { name: 'app', url: repo, branch: 'master', interval: 60_000, notes: false },
    { engine, rules: configRules, dataDir: join(dir, 'data') },
  );
  return { git, commit, store, engine, watcher, repo };
}

describe('git host', () => {
  it('starts from the current tip, then turns each new first-parent commit into a change in history order', async () => {
    const { commit, store, watcher } = await setup();
    await watcher.pollOnce();
    expect((await readQueue(store, QUEUE))?.state.active ?? []).toEqual([]);
    const a = await commit('a.txt', 'add a');
    const b = await commit('b.txt', `add b\n\nDepends-On: ${a}`);
    await watcher.pollOnce();
    const file = (await readQueue(store, QUEUE))!;
    expect(file.state.active).toEqual([`git:app@${a}`, `git:app@${b}`]);
    expect(file.state.changes[`git:app@${b}`]).toMatchObject({
      title: 'add b',
      parent: a,
      dependsOn: [`git:app@${a}`],
      stream: 'git:app@master',
      author: 'T',
      authorEmail: 't@example.invalid',
    });
    expect(file.ci?.provider).toBe('command:ost');
    await watcher.pollOnce();
    expect((await readQueue(store, QUEUE))!.state.active).toHaveLength(2);
  });

  it('reads reverts, so that a failing revert of the culprit is confirmed', async () => {
    const { git, commit, store, watcher } = await setup();
    await watcher.pollOnce();
    const a = await commit('a.txt', 'add a');
    await git('revert', '--no-edit', a);
    await watcher.pollOnce();
    const file = (await readQueue(store, QUEUE))!;
    const revert = Object.values(file.state.changes).find((c) => c.title?.startsWith('Revert'))!;
    expect(revert.reverts).toContain(`git:app@${a}`);
  });

  it('reports a force-push and takes the new history', async () => {
    const { git, commit, store, watcher } = await setup();
    await watcher.pollOnce();
    await commit('a.txt', 'add a');
    await watcher.pollOnce();
    await git('reset', '-q', '--hard', 'HEAD~1');
    const c = await commit('c.txt', 'add c instead');
    await watcher.pollOnce();
    const file = (await readQueue(store, QUEUE))!;
    expect(file.notices.map((n) => n.code)).toContain('history-rewritten');
    expect(file.state.active).toEqual([`git:app@${c}`]);
  });

  it('keeps the last good config when a commit breaks it, and says why', async () => {
    const { commit, store, watcher, repo } = await setup();
    await watcher.pollOnce();
    await writeFile(join(repo, '.ost-gate.yml'), 'ci:\n  provider: travis\n');
    await commit('a.txt', 'break the config');
    await watcher.pollOnce();
    const file = (await readQueue(store, QUEUE))!;
    expect(file.ci?.provider).toBe('command:ost');
    expect(file.notices.find((n) => n.code === 'config-invalid')?.message).toMatch(/ci\.provider: got "travis"/);
    expect(file.state.active).toHaveLength(1);
  });

  it('skips a change that only touches paths_ignore', async () => {
    const { commit, store, watcher } = await setup('ci:\n  provider: command:ost\npaths_ignore: ["docs/**"]\n');
    await watcher.pollOnce();
    const d = await commit('docs/guide.md', 'docs only');
    await watcher.pollOnce();
    expect((await readQueue(store, QUEUE))!.state.changes[`git:app@${d}`]).toMatchObject({ verdict: 'skipped' });
  });

  it('does not gate a repository without a config file', async () => {
    const { commit, store, watcher } = await setup('');
    await watcher.pollOnce();
    await commit('a.txt', 'add a');
    await watcher.pollOnce();
    expect(await store.listQueues()).toEqual([]);
  });
});

describe('git notes', () => {
  it('writes a verdict as a note under refs/notes/ost-gate, pushes it, and knows it did', async () => {
    const { commit, store, engine, repo } = await setup();
    const { GitReporter } = await import('../../src/hosts/git/reporter.ts');
    const dir = join(repo, '..', 'data');
    const watcher = new GitWatcher(
      { name: 'app', url: repo, branch: 'master', interval: 60_000, notes: true },
      { engine, rules: configRules, dataDir: dir },
    );
    await watcher.pollOnce();
    const a = await commit('a.txt', 'add a');
    await watcher.pollOnce();
    const file = (await readQueue(store, QUEUE))!;
    const change = file.state.changes[`git:app@${a}`]!;
    const reporter = new GitReporter([watcher]);
    const key = `report:${QUEUE}:${change.id}:culprit`;
    expect(await reporter.wasReported(key, changeTarget(change))).toBe(false);
    const verdict = { change: change.id, verdict: 'culprit' as const, confidence: 0.9995, at: 1 };
    await reporter.report(buildVerdictReport(QUEUE, file, verdict), key);
    expect(await reporter.wasReported(key, changeTarget(change))).toBe(true);
    const note = (await exec('git', ['-C', repo, 'notes', '--ref=ost-gate', 'show', a])).stdout;
    // the plain-text verdict message, the same words as on every host
    expect(note).toMatch(/^ost-gate: culprit\nQueue git:app@master\./);
    expect(note).toContain('Confidence that it is the culprit and not a flaky test: 99.95%.');
  });
});
