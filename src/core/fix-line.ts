// The broken stream and its fix line: changes after a culprit are tested on their own line until a
// prefix passes (a revert or a forward fix). Changes: streams' broken state and fix lines, the main
// line. Emits: fixed, passed and blocked verdicts, notices. Tip checks are in tip-check.ts.
import type { StepContext } from './context.ts';
import { log, notice } from './emit.ts';
import { type LineView, MAIN, isInFlight, liveRuns, viewLine } from './lines.ts';
import { createRunAt, refsFor, supersede } from './runs.ts';
import type { Run, StreamState } from './types.ts';
import {
  failuresToBlockRevert,
  noteForwardFixCandidate,
  reopenBlockedAtOnce,
  revertsCulprit,
} from './blocked-at-once.ts';
import { learnFlakesOfBreak } from './test-book.ts';
import { verdict } from './verdicts.ts';

/** A failing fix-line prefix: its changes still contain the culprit and are blocked by it. */
export function failFixLine(ctx: StepContext, run: Run): void {
  const stream = ctx.state.streams[run.line];
  if (!stream?.broken) return;
  const view = viewLine(ctx.state, run.line);
  const end = view.changes.indexOf(run.end);
  if (waitsForLowerResult(ctx, { run, view, end, stream })) return;
  const covered = view.changes.slice(0, end + 1);
  const culprit = stream.broken.culprit;
  const revert = ctx.state.settings.revertAware
    ? covered.find((id) => revertsCulprit(ctx, stream, ctx.state.changes[id]!))
    : undefined;
  if (revert && revertInDoubtAfter(ctx, { run, view, revert, culprit })) return;
  for (const r of liveRuns(ctx.state, run.line)) {
    if (r !== run && covered.includes(r.end) && isInFlight(r)) supersede(ctx, r, `prefix up to ${run.end} failed`);
  }
  if (revert === run.end) {
    // the culprit is undone and the tests still fail: a change merged while it was unfixed breaks them too
    notice(
      ctx,
      'warn',
      'revert-still-fails',
      `${revert} reverts ${culprit} but still fails: a change merged between them breaks the tests too; reverting it is tested like a revert of ${culprit}`,
      revert,
    );
  }
  const reverted = revert ? covered.indexOf(revert) : -1;
  covered.forEach((id, i) => {
    const reason =
      reverted >= 0 && i >= reverted
        ? `${revert} reverts ${culprit}, yet the tests still fail: another change merged while ${culprit} was unfixed breaks them (masked by ${culprit})`
        : undefined;
    verdict(ctx, id, 'blocked', { culprit, run: run.key, ...(reason ? { reason } : {}) });
  });
  if (revert === run.end) blockBehindFailedRevert(ctx, stream, revert);
}

/**
 * Whether the failure must wait for a lower result: a passing prefix below it (the changes after the
 * fix are tested again), or a run below still going, which may show the fix with a new culprit after
 * it making this prefix fail (if it fails too, the changes above it are tested again).
 */
function waitsForLowerResult(
  ctx: StepContext,
  failed: { run: Run; view: LineView; end: number; stream: StreamState },
): boolean {
  const { run, view, end, stream } = failed;
  const lowestPass = view.bounds.findIndex((n) => n > 0);
  if (lowestPass >= 0 && lowestPass < end) {
    log(
      ctx,
      'info',
      `run ${run.key} failed above a passing prefix of ${stream.id}; the changes after the fix are tested again`,
    );
    return true;
  }
  const below = view.inFlightRuns.find(
    (r) => r !== run && view.changes.indexOf(r.end) >= 0 && view.changes.indexOf(r.end) < end,
  );
  if (!below) return false;
  log(
    ctx,
    'info',
    `run ${run.key} failed on ${stream.id}'s fix line; waiting for run ${below.key} below it, which may show the fix`,
  );
  return true;
}

/**
 * Whether a failure at or above a revert of the culprit is not yet enough to block: the revert may
 * well have fixed the stream and a later change broken it again. Above the revert, the revert is
 * tested alone until it has failed as often as a revert must to be blocked (failures above it do not
 * count: one flaky failure of the revert with one failure of a new culprit would block, and hide,
 * that culprit); at the revert, the failure is re-run first. Starts the lone run of the revert.
 */
function revertInDoubtAfter(
  ctx: StepContext,
  failed: { run: Run; view: LineView; revert: string; culprit: string },
): boolean {
  const { run, view, revert, culprit } = failed;
  const lines = liveRuns(ctx.state, run.line);
  const confirmedAfter = failuresToBlockRevert(ctx);
  if (revert !== run.end) {
    const revertFailures = lines.filter((r) => r.end === revert && r.state === 'failed').length;
    if (revertFailures >= confirmedAfter) return false;
    if (!lines.some((r) => r.end === revert && isInFlight(r)))
      createRunAt(ctx, view, view.changes.indexOf(revert), 'probe');
    log(
      ctx,
      'info',
      `run ${run.key} failed after ${revert}, which reverts the culprit ${culprit}; testing the revert alone`,
    );
    return true;
  }
  const failures = lines.filter((r) => r.state === 'failed' && r.end === run.end).length;
  if (failures >= confirmedAfter) return false;
  log(
    ctx,
    'info',
    `run ${run.key} failed on top of ${revert}, which reverts the culprit ${culprit}; re-running before blocking`,
  );
  return true;
}

/**
 * The revert failed as often as a revert must to be blocked: the changes behind it, up to the next
 * revert of the culprit, have nothing ahead of them that undoes it. They are blocked at once, as
 * changes of a broken stream without a revert are, and count towards the next tip check (one of
 * them may have fixed the stream forward; a passing check reopens them).
 */
function blockBehindFailedRevert(ctx: StepContext, stream: StreamState, revert: string): void {
  const broken = stream.broken!;
  const blocked: string[] = [];
  for (const id of [...broken.line]) {
    const change = ctx.state.changes[id]!;
    if (revertsCulprit(ctx, stream, change)) break;
    noteForwardFixCandidate(ctx, broken, change);
    verdict(ctx, id, 'blocked', {
      culprit: broken.culprit,
      reason: `contains ${broken.culprit}, and ${revert}, which reverts it, still fails`,
    });
    blocked.push(id);
  }
  for (const r of liveRuns(ctx.state, stream.id))
    if (isInFlight(r) && blocked.includes(r.end)) supersede(ctx, r, `${revert} still fails`);
  // the revert may have failed by flakes alone: the tip is checked as soon as checks allow, and
  // its pass reopens these changes
  if (blocked.length > 0) broken.fixHint = true;
}

/**
 * Position in `view` (a fix line) of a revert of the culprit whose own run failed, too few times yet
 * to block it, or -1. While it is in doubt only the revert runs again: a batch over the changes after
 * it would fail with it, and only the revert's own runs can show its failure a flake.
 */
export function revertInDoubt(ctx: StepContext, stream: StreamState, view: LineView): number {
  if (!ctx.state.settings.revertAware) return -1;
  const pos = view.changes.findIndex((id) => revertsCulprit(ctx, stream, ctx.state.changes[id]!));
  if (pos < 0) return -1;
  const failed = liveRuns(ctx.state, view.line).some((r) => r.end === view.changes[pos] && r.state === 'failed');
  return failed ? pos : -1;
}

/**
 * The first change of a broken stream's fix line passed: it gets `fixed`, the changes up to the
 * highest passing prefix get `passed`, the stream is whole again and the rest rejoins the main line.
 */
export function fix(ctx: StepContext, stream: StreamState): void {
  const broken = stream.broken!;
  const view = viewLine(ctx.state, stream.id);
  let highest = 0;
  view.bounds.forEach((n, i) => {
    if (n > 0) highest = i;
  });
  const passRun = liveRuns(ctx.state, stream.id).find((r) => r.state === 'passed' && r.end === view.changes[highest]);
  const first = liveRuns(ctx.state, stream.id).find((r) => r.state === 'passed' && r.end === view.changes[0]);
  const passed = view.changes.slice(0, highest + 1);
  const rest = view.changes.slice(highest + 1);
  if (passRun) learnFlakesOfBreak(ctx, stream, passRun);
  stream.broken = null;
  stream.good = ctx.state.changes[passed.at(-1)!]!.sha;
  stream.goodRun = passRun?.key ?? null;
  verdict(ctx, passed[0]!, 'fixed', { culprit: broken.culprit, run: first?.key });
  for (const id of passed.slice(1)) verdict(ctx, id, 'passed', { run: passRun?.key });
  // changes blocked at once after the passing prefix (a flaky failure had blocked the revert, say)
  const reopened = reopenBlockedAtOnce(ctx, stream, stream.good, broken.culprit);
  rejoinMain(ctx, stream.id, [...rest, ...reopened], `${stream.id} is fixed`);
  notice(ctx, 'info', 'stream-fixed', `${stream.id} passes again: ${passed[0]} fixed ${broken.culprit}`, passed[0]);
}

/**
 * A stream is whole again: `changes` (its changes still to test) rejoin the main line in merge order.
 * A run of its fix line still in flight (not a tip check) that tests exactly what a main-line run up
 * to its last change would, the same commits of every project, goes on as that main-line run: its
 * result holds there, so a run over the changes after a revert (a priority change's, say) is not
 * done twice. The line's other runs are superseded with `why`.
 */
export function rejoinMain(ctx: StepContext, line: string, changes: string[], why: string): void {
  const { active } = ctx.state;
  active.push(...[...changes].sort((a, b) => ctx.state.changes[a]!.seq - ctx.state.changes[b]!.seq));
  for (const run of liveRuns(ctx.state, line)) {
    const end = active.indexOf(run.end);
    const testsMainPrefix =
      isInFlight(run) && run.kind !== 'check' && end >= 0 && sameRefs(run.refs, refsFor(ctx, active.slice(0, end + 1)));
    if (testsMainPrefix) run.line = MAIN;
    else if (isInFlight(run) || run.state === 'failed' || run.state === 'passed') supersede(ctx, run, why);
  }
}

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
