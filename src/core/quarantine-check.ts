// Checks of a quarantined test that keeps failing: once its streak makes "every failure was a
// flake" unlikely (quarantine-streak.ts) while the main line's runs held its suspects together, a
// run of an old prefix, up to the suspect where half the streak's belief lies, goes out on a
// runner the queue leaves idle, one per test at a time. Its result weighs the suspects as a
// main-line run would: a pass clears those it held, a failure adds to them, until one is named
// culprit past `flaky.confidence` or none is left. No line, no statistic, no verdict of its own.
// Changes: runs, a quarantined test's streak. Emits: dispatches (and through the streak a culprit).
import type { StepContext } from './context.ts';
import { log } from './emit.ts';
import { isInFlight } from './lines.ts';
import { own } from './own.ts';
import { followStreaks, weighStreak } from './quarantine-streak.ts';
import { createRun, endOutsideLines } from './runs.ts';
import { flakeRatesOf, runTests, testCulpritRate } from './test-book.ts';
import type { Run, RunStatus, TestRecord } from './types.ts';

/** The line a quarantine check names: no line of the queue has it. */
export const QUARANTINE_CHECK_LINE = 'quarantine-check';
/** Checks of one streak in a row that may end without a result before its checks stop. */
export const MAX_CHECKS_WITHOUT_RESULT = 3;

/** Whether a test's streak wants checks: a likely break that named nobody yet, and a CI that answers. */
function wantsChecks(rec: TestRecord): boolean {
  const streak = rec.streak;
  if (rec.quarantinedSince === undefined || !streak?.noticed || streak.named || streak.crowded) return false;
  return (streak.checksWithoutResult ?? 0) < MAX_CHECKS_WITHOUT_RESULT;
}

/**
 * The suspect whose commits to run, and those commits: the first suspect, in the order the runs
 * met them, at which the suspects' chances add up to half of theirs in all (null without its commits).
 */
function checkTarget(
  rec: TestRecord,
  flakeRate: number,
  culpritRate: number,
): { id: string; refs: Record<string, string> } | null {
  const { suspects } = weighStreak(rec.streak!, { flakeRate, culpritRate });
  const total = suspects.reduce((a, s) => a + s.chance, 0);
  let sum = 0;
  for (const { suspect, chance } of suspects) {
    sum += chance;
    if (sum >= total / 2) return suspect.refs ? { id: suspect.id, refs: suspect.refs } : null;
  }
  return null;
}

/** Sends the checks the quarantined tests' streaks want, on the runners the queue left idle. Returns how many. */
export function dispatchQuarantineChecks(ctx: StepContext): number {
  const { state } = ctx;
  // every step comes here: most find no streak to check, and stop before reading rates
  const wanting = Object.entries(state.testBook?.tests ?? {}).filter(([, rec]) => wantsChecks(rec));
  if (state.paused || wanting.length === 0) return 0;
  const inFlight = Object.values(state.runs).filter(isInFlight);
  let free = state.settings.maxParallel - inFlight.length;
  if (free <= 0) return 0;
  const checking = new Set(inFlight.map((r) => r.checksTest));
  const rateOf = flakeRatesOf(state);
  const culpritRate = testCulpritRate(state);
  let sent = 0;
  for (const [id, rec] of wanting) {
    if (free <= 0) break;
    if (checking.has(id)) continue;
    const target = checkTarget(rec, rateOf(id).later, culpritRate);
    if (!target) continue;
    const run = createRun(ctx, {
      line: QUARANTINE_CHECK_LINE,
      end: target.id,
      kind: 'quarantine-check',
      attempt: 1,
      changes: [target.id],
      refs: target.refs,
    });
    run.checksTest = id;
    log(ctx, 'info', `quarantine check ${run.key} runs the commits up to ${target.id} for ${id}`);
    free -= 1;
    sent += 1;
  }
  return sent;
}

/**
 * A quarantine check's result: a pass or a failure that names the test weighs its streak's
 * suspects; anything else says nothing, and the next idle runner checks again, up to
 * `MAX_CHECKS_WITHOUT_RESULT` in a row (a CI that gives no result would otherwise be asked forever).
 */
export function finishQuarantineCheck(
  ctx: StepContext,
  run: Run,
  result: { status: RunStatus | 'timed-out'; tests?: { failed: string[]; passed?: number | null } | null },
): void {
  const { status, tests } = result;
  endOutsideLines(ctx, run, status);
  const id = run.checksTest ?? '';
  const rec = own(ctx.state.testBook?.tests ?? {}, id);
  const said = (why: string) => log(ctx, 'info', `quarantine check ${run.key} for ${id} ${why}`);
  if (!rec?.streak || rec.quarantinedSince === undefined) return said(`ended ${run.state} after its streak did`);
  const streak = rec.streak;
  const noResult = (why: string) => {
    streak.checksWithoutResult = (streak.checksWithoutResult ?? 0) + 1;
    const stop = streak.checksWithoutResult >= MAX_CHECKS_WITHOUT_RESULT;
    said(`${why}: it says nothing${stop ? `; ${streak.checksWithoutResult} in a row, so the checks stop` : ''}`);
  };
  if (run.state !== 'passed' && run.state !== 'failed') return noResult(`ended ${run.state}`);
  if (run.state === 'failed' && !tests?.failed.length) return noResult('failed without naming its tests');
  delete streak.checksWithoutResult;
  run.tests = runTests(run.state === 'passed' ? { ...tests, failed: [] } : tests!);
  const flakeRate = flakeRatesOf(ctx.state)(id).later;
  followStreaks(ctx, run, [{ id, rec, flakeRate }], testCulpritRate(ctx.state));
  said(`${run.tests.failed.includes(id) ? 'failed' : 'passed'} it`);
}
