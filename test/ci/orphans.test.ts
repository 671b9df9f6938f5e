// A command runner's test process left running by a server that stopped without ending it (a
// SIGKILL, a power cut) is ended when the runner starts again, and its run is run again as lost,
// not counted as an infra error. A recorded pid that now belongs to another process is left alone.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandDispatcher } from '../../src/ci/command/dispatcher.ts';
import { processStart } from '../../src/ci/command/orphans.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('test processes left by a stopped server', () => {
  it('are ended when the runner starts again, and the run is submitted as lost', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-orphans-'));
    const activeDir = join(dir, 'active');
    const pidFile = join(dir, 'pid');
    const options = { workRoot: join(dir, 'work'), logPath: (k: string) => join(dir, `${k}.log`), activeDir };
    // the test script starts a child of its own: the whole process group must go
    const command = ['sh', '-c', `sleep 600 & echo $! > ${pidFile}; wait`];
    const before = new CommandDispatcher('ost', { command }, options);
    const ctx = { queue: 'q', now: () => 0, submit: async () => true } as never;
    const { ciRunId } = await before.dispatch({ key: 'q.1', refs: {}, changes: [] } as never, ctx);
    let sleeper = 0;
    for (let i = 0; i < 600 && !sleeper; i++) {
      sleeper = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!sleeper) await new Promise((ok) => setTimeout(ok, 20));
    }
    let recorded: string[] = [];
    for (let i = 0; i < 600 && recorded.length === 0; i++) {
      recorded = await readdir(activeDir).catch(() => []);
      if (recorded.length === 0) await new Promise((ok) => setTimeout(ok, 20));
    }
    expect(recorded).toEqual([expect.stringMatching(/^q\.1.*\.json$/)]);
    // the server "crashes": the old dispatcher is forgotten, its processes still run
    expect([alive(ciRunId), alive(sleeper)]).toEqual([true, true]);
    const submitted: unknown[] = [];
    const after = new CommandDispatcher('ost', { command }, options);
    await after.resume(
      { key: 'q.1' } as never,
      { queue: 'q', now: () => 5, submit: async (_q: string, e: unknown) => void submitted.push(e) } as never,
    );
    for (let i = 0; i < 600 && (alive(sleeper) || alive(ciRunId)); i++) await new Promise((ok) => setTimeout(ok, 20));
    expect([alive(ciRunId), alive(sleeper)]).toEqual([false, false]);
    expect(submitted).toEqual([{ type: 'run-finished', at: 5, key: 'q.1', status: 'lost' }]);
    expect(await readdir(activeDir)).toEqual([]);
  });

  it('leaves alone a pid recorded with another start time (reused by another process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-orphans-'));
    const activeDir = join(dir, 'active');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(activeDir);
    expect(await processStart(process.pid)).toMatch(/^\d+$/);
    await writeFile(join(activeDir, 'q.2.json'), JSON.stringify({ key: 'q.2', pid: process.pid, started: '1' }));
    const runner = new CommandDispatcher(
      'ost',
      { command: ['true'] },
      { workRoot: join(dir, 'w'), logPath: (k) => join(dir, k), activeDir },
    );
    await runner.resume({ key: 'q.2' } as never, { queue: 'q', now: () => 0, submit: async () => true } as never);
    expect(alive(process.pid)).toBe(true);
    expect(await readdir(activeDir)).toEqual([]);
  });
});
