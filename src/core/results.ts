// Results: what a run's start, end or time-out changes. Changes: runs, stats, the good base of
// streams, the pause flag. Emits: passed verdicts, retries (dispatch), cancels, notices.
import { finishQuarantineCheck } from './quarantine-check.ts';
import type { StepContext } from './context.ts';
import { log, notice } from './emit.ts';
import { failFixLine } from './fix-line.ts';
import { finishCheck } from './tip-check.ts';
import { MAIN, isInFlight, liveRuns, viewLine } from './lines.ts';
import { namesChange } from './blocked-at-once.ts';
import { own } from './own.ts';
import { createRun, supersede, supersedeAbove } from './runs.ts';
import { speculating } from './schedule.ts';
import { clearTestFlakes, keepsRunsAbove } from './signatures.ts';
import { countedFailures, markTestFlaky, recordRunTests, runTests } from './test-book.ts';
import type { CoreEvent, Run, RunState } from './types.ts';
import { verdict } from './verdicts.ts';
import { finishTry } from './tries.ts';

/**
 * Marks a dispatched run as running and records its CI URL. An unknown key is logged and ignored.
 * A run that already ended (superseded while its dispatch was under way) keeps its state, but still
 * gets the URL and CI run id it had none of, so the dashboard can link the cancelled CI run.
 */
export function runStarted(ctx: StepContext, event: Extract<CoreEvent, { type: 'run-started' }>): void {
  const { at } = ctx;
  const { key, url, ciRunId, target } = event;
  const run = own(ctx.state.runs, key);
  if (run && target && !run.target) run.target = target;
  // the dispatcher knew only where it sent the run: it is not known to be running yet
  if (run && isInFlight(run) && !url && (ciRunId === undefined || ciRunId === null)) return;
  if (!run || !isInFlight(run)) {
    log(ctx, 'info', `start of run ${key} ignored: ${run ? `it is ${run.state}` : 'unknown key'}`);
    if (run && url && !run.url) run.url = url;
    if (run && ciRunId !== undefined && ciRunId !== null && run.ciRunId === undefined) run.ciRunId = ciRunId;
    return;
  }
  run.state = 'running';
  run.startedAt = at;
  if (url) run.url = url;
  if (ciRunId !== undefined && ciRunId !== null) run.ciRunId = ciRunId;
}

/**
 * Records a run's result. Success and failure feed the search; error and cancelled are infra
 * errors, retried up to `retries` times and then pausing the queue. A result for an unknown,
 * finished or superseded key changes nothing and is logged.
 */
export function runFinished(ctx: StepContext, event: Extract<CoreEvent, { type: 'run-finished' }>): void {
  const { at } = ctx;
  const { key, status, url, reason } = event;
  const run = own(ctx.state.runs, key);
  if (!run || !isInFlight(run)) {
    const why = !run ? 'unknown key' : run.superseded ? 'superseded' : `already ${run.state}`;
    log(ctx, 'info', `stale result ${status} for run ${key} ignored (${why})`);
    return;
  }
  if (url) run.url = url;
  const noResult = status === 'error' || status === 'cancelled';
  if (noResult && reason) run.error = reason.length > ERROR_KEPT ? `${reason.slice(0, ERROR_KEPT - 1)}…` : reason;
  if (run.kind === 'try') return finishTry(ctx, run, status, event.tests);
  if (run.kind === 'quarantine-check') return finishQuarantineCheck(ctx, run, { status, tests: event.tests });
  if (status === 'lost') {
    lostRun(ctx, run);
    return;
  }
  if (noResult) {
    infraFailure(ctx, run, status === 'error' ? 'error' : 'cancelled');
    return;
  }
  run.finishedAt = at;
  run.state = status === 'success' ? 'passed' : 'failed';
  if (event.tests) recordTests(ctx, run, event.tests);
  ctx.state.stats.runsFinished += 1;
  if (run.state === 'failed') ctx.state.stats.runsFailed += 1;
  recordRunTime(ctx, at - run.createdAt);
  if (run.kind === 'check') {
    finishCheck(ctx, run);
  } else if (run.line === MAIN) {
    if (run.state === 'passed') passMain(ctx, run);
    else if (!keepsRunsAbove(ctx.state, viewLine(ctx.state, MAIN), run))
      supersedeAbove(ctx, MAIN, run.end, `prefix up to ${run.end} failed`, speculating(ctx));
    // a failure of a test that a run at or above did not fail was a flake of that test
    for (const cleared of clearTestFlakes(ctx, viewLine(ctx.state, MAIN))) {
      markFlake(ctx, cleared);
      passMain(ctx, cleared);
    }
  } else if (run.state === 'failed') failFixLine(ctx, run);
  // a fix-line pass fixes the stream when it settles (fix-line.ts: fix, rejoinMain)
}

/**
 * Keeps what the CI said of a run's tests. A failure that names no failing test says nothing per
 * test (one bit, as without tests); a failure only of quarantined tests counts as a pass.
 */
function recordTests(ctx: StepContext, run: Run, tests: { failed: string[]; passed?: number | null }): void {
  const kept = runTests(run.state === 'passed' ? { ...tests, failed: [] } : tests);
  if (run.state === 'failed' && kept.failed.length === 0) return;
  run.tests = kept;
  const counts = recordRunTests(ctx, run, run.line === MAIN && run.kind !== 'check');
  if (run.state === 'failed' && !counts) {
    run.state = 'passed';
    log(
      ctx,
      'info',
      `run ${run.key} failed only in quarantined tests (${run.quarantined!.join(', ')}): counted as passed`,
    );
  }
}

/** Weight of the newest run in the mean run time: about the last ten runs count. */
const RUN_TIME_WEIGHT = 0.1;

/** Folds a finished run's time from dispatch to result into the queue's mean run time. */
function recordRunTime(ctx: StepContext, ms: number): void {
  if (!(ms >= 0)) return;
  const { stats } = ctx.state;
  stats.runMs = stats.runMs === undefined ? ms : stats.runMs + RUN_TIME_WEIGHT * (ms - stats.runMs);
}

/** A passing main-line prefix: its changes pass, the good base moves up, and failures below it were flakes. */
export function passMain(ctx: StepContext, run: Run): void {
  const view = viewLine(ctx.state, MAIN);
  const end = view.changes.indexOf(run.end);
  const covered = view.changes.slice(0, end + 1);
  for (const r of liveRuns(ctx.state, MAIN)) {
    if (r === run || !covered.includes(r.end)) continue;
    if (r.state === 'failed') markFlake(ctx, r);
    else if (isInFlight(r)) supersede(ctx, r, `prefix up to ${run.end} passed`);
  }
  for (const stream of Object.values(ctx.state.streams)) {
    const sha = run.refs[stream.project];
    if (sha && !stream.broken && (covered.some((id) => ctx.state.changes[id]?.stream === stream.id) || !stream.good)) {
      stream.good = sha;
      stream.goodRun = run.key;
    }
  }
  for (const id of covered) {
    const by = revertedAmong(ctx, id, covered);
    if (by)
      verdict(ctx, id, 'skipped', {
        run: run.key,
        reason: `reverted by ${by} in the same passing run, so it was never tested without its revert`,
      });
    else verdict(ctx, id, 'passed', { run: run.key });
  }
}

/** The change among `ids`, later than `id` in its stream, that reverts it (by id or sha), if any. */
function revertedAmong(ctx: StepContext, id: string, ids: string[]): string | undefined {
  const c = own(ctx.state.changes, id);
  if (!c) return undefined;
  return ids.find((other) => {
    const o = own(ctx.state.changes, other);
    return !!o && o.stream === c.stream && o.seq > c.seq && !!o.reverts?.some((r) => namesChange(r, c));
  });
}

export function markFlake(ctx: StepContext, run: Run): void {
  if (run.flake) return;
  run.flake = true;
  ctx.state.stats.flakes += 1;
  for (const t of countedFailures(run)) markTestFlaky(ctx, run, t);
  log(ctx, 'info', `run ${run.key} failed but a later prefix passed: recorded as a flake`);
}

/** A run its runner lost in a server crash: run again as the same attempt, not counted as an infra error. */
export function lostRun(ctx: StepContext, run: Run): void {
  const { at } = ctx;
  run.state = 'cancelled';
  run.finishedAt = at;
  if (ctx.state.paused) return;
  const again = createRun(ctx, run);
  notice(ctx, 'info', 'run-lost', `run ${run.key} was lost when the server stopped; running it again as ${again.key}`);
}

/** The longest reason for an infra error a run keeps. */
const ERROR_KEPT = 300;

/** Retries a run that could not produce a result, or pauses the queue once retries are used up. */
export function infraFailure(ctx: StepContext, run: Run, state: RunState): void {
  const { at } = ctx;
  run.state = state;
  run.finishedAt = at;
  const why = run.error ? `: ${run.error}` : '';
  if (run.attempt <= ctx.state.settings.retries && !ctx.state.paused) {
    ctx.state.stats.infraRetries += 1;
    const retry = createRun(ctx, { ...run, attempt: run.attempt + 1 });
    notice(
      ctx,
      'warn',
      'infra-retry',
      `run ${run.key} ended ${state} (attempt ${run.attempt})${why}; retrying as ${retry.key}`,
    );
    return;
  }
  if (!ctx.state.paused) {
    ctx.state.paused = {
      reason: `run ${run.key} ended ${state} after ${run.attempt} attempt(s)${why}; nothing was blamed`,
      by: null,
      at,
    };
    notice(
      ctx,
      'error',
      'queue-paused',
      `queue ${ctx.state.name} paused: ${ctx.state.paused.reason}. Fix the CI, then /ost resume or /ost retry ` +
        `(or, without a code host, ost-gate resume ${ctx.state.name}).`,
    );
  }
}

/** Expires runs past `ci.timeout`, held pushes past the gap timeout, and checks dependency deadlines. */
/** Expires runs past `ci.timeout`: each is cancelled and counted as an infra error (retried, or the queue pauses). */
export function expireRuns(ctx: StepContext): void {
  const { at } = ctx;
  for (const run of Object.values(ctx.state.runs)) {
    if (isInFlight(run) && run.deadline <= at) {
      ctx.effects.push({ type: 'cancel', key: run.key, reason: 'timed out' });
      run.error = `no result within ci.timeout (${Math.round((run.deadline - run.createdAt) / 60_000)} min)`;
      if (run.kind === 'try') finishTry(ctx, run, 'timed-out');
      else if (run.kind === 'quarantine-check') finishQuarantineCheck(ctx, run, { status: 'timed-out' });
      else infraFailure(ctx, run, 'timed-out');
    }
  }
}
