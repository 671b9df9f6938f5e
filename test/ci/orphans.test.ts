// A command runner's test process left running by a server that stopped without ending it (a
// SIGKILL, a power cut) is ended when the runner starts again, and its run is run again as lost,
// not counted as an infra error. Processes are known by the marks in their environment, so one
// with another runner's name or another server's work root is left alone, and nothing is written
// per run.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandDispatcher } from '../../src/ci/command/dispatcher.ts';
import { markedProcesses } from '../../src/ci/command/orphans.ts';

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
    const pidFile = join(dir, 'pid');
    const workRoot = join(dir, 'work');
    const options = { workRoot, keepLog: async () => undefined, endLeftovers: true };
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
    // both processes carry the marks, in one process group led by the command
    const marked = await markedProcesses({ runner: 'ost', workRoot });
    expect(marked?.map((p) => p.pid).sort()).toEqual([ciRunId, sleeper].sort());
    expect(marked?.map((p) => [p.group, p.key])).toEqual([
      [ciRunId, 'q.1'],
      [ciRunId, 'q.1'],
    ]);
    // nothing about the run was written but its work directory
    expect(await readdir(dir)).toEqual(['pid', 'work']);
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
  });

  it("leaves alone processes of another runner, or of another server's work root", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-orphans-'));
    const workRoot = join(dir, 'work');
    const others = [
      { OST_RUNNER: 'other', OST_WORKDIR: join(workRoot, 'q.2') },
      { OST_RUNNER: 'ost', OST_WORKDIR: join(dir, 'work-of-another-server', 'q.3') },
      { OST_RUNNER: 'ost', OST_WORKDIR: `${workRoot}-not-under-it/q.4` },
    ].map((env) =>
      spawn('sleep', ['600'], { env: { PATH: process.env.PATH!, ...env }, detached: true, stdio: 'ignore' }),
    );
    try {
      const runner = new CommandDispatcher(
        'ost',
        { command: ['true'] },
        { workRoot, keepLog: async () => undefined, endLeftovers: true },
      );
      await runner.resume({ key: 'q.2' } as never, { queue: 'q', now: () => 0, submit: async () => true } as never);
      expect(others.map((c) => alive(c.pid!))).toEqual([true, true, true]);
      expect(await markedProcesses({ runner: 'ost', workRoot })).toEqual([]);
    } finally {
      for (const c of others) c.kill('SIGKILL');
    }
  });
});
