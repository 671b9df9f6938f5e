// Tests of `ost-gate status`: every queue from the data directory, for a terminal or as JSON.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import type { Effect, Run } from '../../src/core/index.ts';
import { Engine } from '../../src/engine/engine.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';

describe('ost-gate status', () => {
  it('prints each queue with its broken streams and open changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-status-'));
    const engine = new Engine({
      store: new LowdbStore(dir),
      performer: {
        perform: async (_e: { key: string; effect: Effect }) => undefined,
        alreadyDone: async () => false,
        resume: async (_r: Run) => undefined,
      },
      settingsFor: () => ({ confirm: 0, confidence: 0, maxParallel: 1 }),
    });
    await engine.submit('git:app@main', {
      type: 'merged',
      at: 0,
      stream: { host: 'git', project: 'app', branch: 'main' },
      changes: [
        { id: 'git:app@bad', sha: 'bad', title: 'breaks it' },
        { id: 'git:app@next', sha: 'next', title: 'later' },
      ],
    });
    const key = Object.keys((await engine.reads.queue('git:app@main'))!.state.runs)[0]!;
    await engine.submit('git:app@main', { type: 'run-finished', at: 1, key, status: 'failure' });
    const probe = Object.values((await engine.reads.queue('git:app@main'))!.state.runs).find(
      (r) => r.state === 'dispatched',
    )!;
    await engine.submit('git:app@main', { type: 'run-finished', at: 2, key: probe.key, status: 'failure' });
    const out: string[] = [];
    expect(await main(['status', '--data-dir', dir], (s) => out.push(s))).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/queue git:app@main: running, 0 change\(s\) waiting/);
    expect(text).toContain('broken: git:app@main by git:app@bad');
    expect(text).toMatch(/culprit +git:app@bad breaks it/);
    const json: string[] = [];
    await main(['status', '--data-dir', dir, '--json'], (s) => json.push(s));
    expect(JSON.parse(json.join(''))[0]).toMatchObject({ name: 'git:app@main', broken: [{ culprit: 'git:app@bad' }] });
    expect(
      await main(
        ['status', '--bogus'],
        () => undefined,
        () => undefined,
      ),
    ).toBe(2);
  });
});
