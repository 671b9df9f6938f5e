// Tests of the command runner: the contract in its environment, exit codes, kept output, killing on time-out.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandDispatcher, exitStatus } from '../../src/ci/command/dispatcher.ts';
import type { CoreEvent, DispatchSpec } from '../../src/core/index.ts';
import type { DispatchContext } from '../../src/engine/effects.ts';
import { Engine } from '../../src/engine/engine.ts';
import { RoutingPerformer } from '../../src/engine/performer.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import { isRunning } from '../helpers/processes.ts';

const spec = (key: string): DispatchSpec => ({
  key,
  refs: { app: 'abc' },
  changes: ['git:app@abc'],
  attempt: 1,
  kind: 'batch',
  line: 'main',
  end: 'git:app@abc',
});

async function harness(command: string[], log?: Logger) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-cmd-'));
  const events: CoreEvent[] = [];
  const d = new CommandDispatcher(
    't',
    { command },
    {
      workRoot: join(dir, 'work'),
      keepLog: (k, text) => writeFile(join(dir, `${k}.log`), text),
      ...(log ? { log } : {}),
    },
  );
  const ctx = {
    queue: 'q',
    file: {} as DispatchContext['file'],
    now: () => 1,
    submit: async (_q: string, e: CoreEvent) => void events.push(e),
  } satisfies DispatchContext;
  return { dir, d, ctx, events };
}

describe('command runner', () => {
  it.each([
    [0, null, 'success'],
    [1, null, 'failure'],
    [125, null, 'error'],
    [2, null, 'error'],
    [null, 'SIGKILL', 'error'],
  ] as const)('maps exit code %s (signal %s) to %s: 125 and anything else are infra errors', (code, signal, status) => {
    expect(exitStatus(code, signal)).toBe(status);
  });

  it('reads the JUnit XML files a run leaves in OST_RESULTS_DIR, at any depth, as its failing tests', async () => {
    const script = [
      'test -d "$OST_RESULTS_DIR" && test -z "$(ls -A "$OST_RESULTS_DIR")" || exit 3',
      'mkdir -p "$OST_RESULTS_DIR/basic"',
      `printf '%s' '<testsuite name="b"><testcase classname="basic-suite/002_bootstrap" name="add_hosts"><error/></testcase><testcase classname="basic-suite/002_bootstrap" name="add_dc"/></testsuite>' > "$OST_RESULTS_DIR/basic/one.xml"`,
      `printf '%s' '<testsuites><testsuite name="n"><testcase name="network_up"><failure/></testcase></testsuite></testsuites>' > "$OST_RESULTS_DIR/two.xml"`,
      'echo not xml > "$OST_RESULTS_DIR/notes.txt"',
      'exit 1',
    ].join('\n');
    const { d, ctx, events } = await harness(['sh', '-c', script]);
    await d.dispatch(spec('q.1'), ctx);
    await d.finishing.get('q.1');
    expect(events).toEqual([
      {
        type: 'run-finished',
        at: 1,
        key: 'q.1',
        status: 'failure',
        tests: { failed: ['basic-suite/002_bootstrap.add_hosts', 'network_up'], passed: 1 },
      },
    ]);
  });

  it('keeps one bit for a run whose JUnit XML is malformed or hostile, and says why in the log', async () => {
    const lines: string[] = [];
    const log = { ...silentLogger, warn: (_o: unknown, msg: string) => void lines.push(msg) } as Logger;
    const script = `printf '%s' '<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"><failure/></testcase></testsuite>' > "$OST_RESULTS_DIR/r.xml"; exit 1`;
    const { d, ctx, events } = await harness(['sh', '-c', script], log);
    await d.dispatch(spec('q.1'), ctx);
    await d.finishing.get('q.1');
    expect(events).toEqual([{ type: 'run-finished', at: 1, key: 'q.1', status: 'failure' }]);
    expect(lines.join('\n')).toMatch(
      /test results not used \(r\.xml: JUnit XML with a DOCTYPE or ENTITY is refused\); one bit kept/,
    );
  });

  it('passes the contract values in the environment, and no secret of the server', async () => {
    process.env.GERRIT_PASSWORD = 'hunter2';
    const { d, ctx, events, dir } = await harness([
      'sh',
      '-c',
      'echo "key=$OST_KEY refs=$OST_REFS changes=$OST_CHANGES wd=${OST_WORKDIR:+set} pw=${GERRIT_PASSWORD:-none}"; exit 1',
    ]);
    await d.dispatch(spec('q.1'), ctx);
    await d.finishing.get('q.1');
    delete process.env.GERRIT_PASSWORD;
    expect(events).toEqual([{ type: 'run-finished', at: 1, key: 'q.1', status: 'failure' }]);
    const log = await readFile(join(dir, 'q.1.log'), 'utf8');
    expect(log).toContain('key=q.1 refs={"app":"abc"} changes=["git:app@abc"] wd=set pw=none');
  });

  it('keeps the last 200 lines of output', async () => {
    const { d, ctx, dir } = await harness([
      'sh',
      '-c',
      'i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done',
    ]);
    await d.dispatch(spec('q.2'), ctx);
    await d.finishing.get('q.2');
    const lines = (await readFile(join(dir, 'q.2.log'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(200);
    expect([lines[0], lines.at(-1)]).toEqual(['line 101', 'line 300']);
  });

  it('reports a program that cannot start as an infra error', async () => {
    const { d, ctx, events } = await harness(['/nonexistent/program']);
    await d.dispatch(spec('q.3'), ctx);
    await d.finishing.get('q.3');
    expect(events[0]).toMatchObject({ key: 'q.3', status: 'error' });
  });

  it('kills the whole process tree on cancel and reports nothing for it', async () => {
    const { d, ctx, events, dir } = await harness(['sh', '-c', 'sleep 60 & echo $! > child.pid; sleep 60']);
    const { ciRunId } = await d.dispatch(spec('q.4'), ctx);
    const childPidFile = join(dir, 'work');
    await new Promise((r) => setTimeout(r, 200));
    const workdirs = await import('node:fs/promises').then((fs) => fs.readdir(childPidFile));
    const grandchild = Number(await readFile(join(childPidFile, workdirs[0]!, 'child.pid'), 'utf8'));
    expect(isRunning(ciRunId) && isRunning(grandchild)).toBe(true);
    await d.cancel('q.4');
    await d.finishing.get('q.4');
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(ciRunId)).toBe(false);
    expect(isRunning(grandchild)).toBe(false);
    expect(events).toEqual([]);
  });

  it('a hanging command is killed at ci.timeout and the run is retried as an infra error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-cmd-'));
    const store = new LowdbStore(dir);
    const d = new CommandDispatcher(
      'hang',
      { command: ['sleep', '60'] },
      { workRoot: join(dir, 'work'), keepLog: (k, text) => store.keepRunLog(k, text) },
    );
    let clock = 0;
    const engine = new Engine({
      store,
      performer: new RoutingPerformer({ dispatchers: { 'command:hang': d }, reporters: {} }),
      now: () => clock,
      settingsFor: () => ({ maxParallel: 1, timeoutMs: 1000, retries: 1 }),
    });
    await engine.submit(
      'q',
      {
        type: 'merged',
        at: 0,
        stream: { host: 'git', project: 'app', branch: 'main' },
        changes: [{ id: 'a', sha: 'abc' }],
      },
      { setup: { ci: { provider: 'command:hang' } } },
    );
    const first = Object.values((await readQueue(store, 'q'))!.state.runs)[0]!;
    const pid =
      Number(first.ciRunId ?? 0) ||
      [...(d as unknown as { running: Map<string, { pid: number }> }).running.values()][0]!.pid;
    expect(isRunning(pid)).toBe(true);
    clock = 1000;
    await engine.tick();
    await d.finishing.get(first.key);
    await new Promise((r) => setTimeout(r, 100));
    expect(isRunning(pid)).toBe(false);
    const file = (await readQueue(store, 'q'))!;
    expect(file.state.runs[first.key]!.state).toBe('timed-out');
    expect(Object.values(file.state.runs).find((r) => r.attempt === 2)).toMatchObject({
      state: expect.stringMatching(/dispatched|running/),
      end: 'a',
    });
    await d.stopAll();
  });
});
