// The `command:<name>` dispatcher: runs a program named in the *server* config for each run, with the
// contract values in its environment. Exit 0 passes, 1 fails, 125 (cannot test) and anything else is an
// infra error. A cancel (for example on ci.timeout) kills the whole process group. JUnit XML files the
// program leaves in OST_RESULTS_DIR tell which tests failed (results-dir.ts).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DispatchSpec, Run, RunStatus } from '../../core/index.ts';
import type { DispatchContext, Dispatcher } from '../../engine/effects.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { safeSlug } from '../../store/slug.ts';
import { CommandLog } from './log.ts';
import { contractValues } from '../contract.ts';
import type { TestResults } from '../test-results.ts';
import { launcher, type CommandEnd, type Launched } from './launcher.ts';
import { endLeftovers } from './orphans.ts';
import { readResultsDir } from './results-dir.ts';

const KILL_GRACE_MS = 5_000;
/** Variables passed through from the server's environment; everything else (tokens, passwords) stays out. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'USER', 'SHELL'];

export interface CommandRunner {
  command: string[];
  workdir?: string | undefined;
  env?: Record<string, string>;
}

export interface CommandDispatcherOptions {
  /** Where per-run work directories are made. */
  workRoot: string;
  /** Keeps the last lines of a run's output (the store's run logs). */
  keepLog: (key: string, text: string) => Promise<void>;
  log?: Logger;
  /** Whether to end, before the first run, the test processes a crash of the server left (orphans.ts). */
  endLeftovers?: boolean;
}

/** The line ost-gate adds to the log when the command did not exit 0. */
function endLine(program: string, { code, signal, error }: CommandEnd): string | undefined {
  if (error) return `ost-gate: could not start ${program}: ${error.message}`;
  if (code !== 0) return `ost-gate: ${program} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`;
  return undefined;
}

/** Why a command's run is an infra error, as the queue's pause and the dashboard say it. */
function errorReason(program: string, { code, signal, error }: CommandEnd): string {
  if (error) return `could not start ${program}: ${error.message}`;
  if (signal) return `${program} was killed by ${signal}`;
  if (code === 125) return `${program} exited 125: it cannot test this`;
  return `${program} exited with code ${code}`;
}

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): RunStatus {
  if (signal) return 'error';
  if (code === 0) return 'success';
  if (code === 1) return 'failure';
  return 'error';
}

export class CommandDispatcher implements Dispatcher {
  /** The runs' commands, by run key, from the moment they are asked for (started by launcher.ts). */
  private readonly running = new Map<string, Promise<Launched>>();
  private readonly cancelled = new Set<string>();
  private readonly log: Logger;

  /** The runs whose processes a crash left, ended when this runner starts (none unless endLeftovers). */
  private readonly leftovers: Promise<string[]>;

  constructor(
    readonly name: string,
    private readonly runner: CommandRunner,
    private readonly opts: CommandDispatcherOptions,
  ) {
    this.log = opts.log ?? silentLogger;
    this.leftovers = opts.endLeftovers
      ? endLeftovers({ runner: name, workRoot: opts.workRoot }, this.log)
      : Promise.resolve([]);
  }

  async dispatch(run: DispatchSpec, ctx: DispatchContext): Promise<{ ciRunId: number }> {
    await this.leftovers;
    const existing = this.running.get(run.key);
    if (existing) return { ciRunId: (await existing).pid ?? 0 };
    const workdir = join(this.opts.workRoot, safeSlug(run.key));
    const resultsDir = join(workdir, 'results');
    await mkdir(resultsDir, { recursive: true });
    const [program, ...args] = this.runner.command;
    const log = new CommandLog((text) => this.opts.keepLog(run.key, text));
    const launching = launcher.launch(
      {
        program: program!,
        args,
        cwd: this.runner.workdir ?? workdir,
        env: this.environment({ run, queue: ctx.queue, workdir, resultsDir }),
      },
      log.keep,
    );
    this.running.set(run.key, launching);
    const launched = await launching;
    const finished = launched.ended.then(async (end) => {
      this.running.delete(run.key);
      await log.close(endLine(program!, end));
      const tests = this.cancelled.has(run.key) ? null : await this.testsOf(run.key, resultsDir);
      await rm(workdir, { recursive: true, force: true }).catch(() => undefined);
      if (!this.cancelled.delete(run.key)) await this.report({ key: run.key, program: program!, end, ctx, tests });
    });
    this.finishing.set(run.key, finished);
    return { ciRunId: launched.pid ?? 0 };
  }

  /** The tests a run's JUnit XML files report, or null (none, or unusable: logged). */
  private async testsOf(key: string, resultsDir: string): Promise<TestResults | null> {
    const { results, problem } = await readResultsDir(resultsDir);
    if (problem)
      this.log.warn({ runner: this.name, key }, `command run ${key}: test results not used (${problem}); one bit kept`);
    return results;
  }

  /** The command's environment: the contract values and the runner's own, and only safe variables of the server's. */
  private environment(where: { run: DispatchSpec; queue: string; workdir: string; resultsDir: string }) {
    const { run, queue, workdir, resultsDir } = where;
    const v = contractValues(run);
    const env: Record<string, string> = {};
    for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    return Object.assign(env, this.runner.env ?? {}, {
      OST_KEY: v.ost_key,
      OST_REFS: v.ost_refs,
      OST_CHANGES: v.ost_changes,
      OST_WORKDIR: workdir,
      OST_RESULTS_DIR: resultsDir,
      OST_QUEUE: queue,
      // with OST_WORKDIR, marks the process as this runner's if a crash leaves it running (orphans.ts)
      OST_RUNNER: this.name,
    });
  }

  /** Submits the run's result, with the reason of an infra error. */
  private async report(ended: {
    key: string;
    program: string;
    end: CommandEnd;
    ctx: DispatchContext;
    tests: TestResults | null;
  }) {
    const { key, program, end, ctx, tests } = ended;
    const status = end.error ? 'error' : exitStatus(end.code, end.signal);
    this.log.info(
      { runner: this.name, key, code: end.code, signal: end.signal, status },
      `command run ${key} ended: ${status}`,
    );
    const reason = status === 'error' ? errorReason(program, end) : undefined;
    const event = {
      type: 'run-finished' as const,
      at: ctx.now(),
      key,
      status,
      ...(reason ? { reason } : {}),
      ...(tests && status !== 'error' ? { tests } : {}),
    };
    await ctx
      .submit(ctx.queue, event, `command:${key}`)
      .catch((err) => this.log.error({ key, err: (err as Error).message }, 'could not record a command result'));
  }

  /** Results still being recorded, for tests and shutdown. */
  readonly finishing = new Map<string, Promise<void>>();

  async cancel(key: string): Promise<void> {
    const launched = await this.running.get(key);
    const pid = launched?.pid;
    if (!launched || !pid) return;
    this.cancelled.add(key);
    const kill = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pid, signal); // the whole process group: the command and everything it started
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    const timer = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS);
    timer.unref();
    void launched.ended.then(() => clearTimeout(timer));
  }

  /**
   * After a restart the run's process went with the old server (or was ended at start, orphans.ts):
   * its result is lost, and the core runs it again without counting an infra error.
   */
  async resume(run: Run, ctx: DispatchContext): Promise<void> {
    await this.leftovers;
    if (this.running.has(run.key)) return;
    this.log.warn({ key: run.key }, `command run ${run.key} was lost in a restart; running it again`);
    await ctx.submit(
      ctx.queue,
      { type: 'run-finished', at: ctx.now(), key: run.key, status: 'lost' },
      `command-lost:${run.key}`,
    );
  }

  async wasDispatched(key: string): Promise<boolean> {
    return this.running.has(key);
  }

  /** Stops every running command (server shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((k) => this.cancel(k)));
  }
}
