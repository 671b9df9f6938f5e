// The broken stream and its fix line: changes after a culprit are tested on their own line until a
// prefix passes (a revert or a forward fix). Changes: streams' broken state and fix lines, the main
// line. Emits: fixed, passed and blocked verdicts, notices. Tip checks are in tip-check.ts.
import type { StepContext } from './context.ts';
import { log, notice } from './emit.ts';
import { type LineView, isInFlight, liveRuns, viewLine } from './lines.ts';
import { own } from './own.ts';
import { createRunAt, supersede, supersedeLine } from './runs.ts';
import type { ChangeRecord, Run, StreamState } from './types.ts';
import { noteForwardFixCandidate } from './tip-check.ts';
import { latestVerdict, retract, verdict } from './verdicts.ts';

/**
 * True when `change` reverts the culprit of its broken stream, or a change blocked by it (a culprit
 * masked by the first one is reverted the same way).
 */
export function revertsCulprit(ctx: StepContext, stream: StreamState, change: ChangeRecord): boolean {
  const culprit = stream.broken?.culprit;
  if (!culprit || !change.reverts?.length) return false;
  const broken = (c: ChangeRecord | undefined) =>
    !!c && c.stream === stream.id && (c.id === culprit || c.culprit === culprit);
  return change.reverts.some(
    (r) => broken(own(ctx.state.changes, r)) || Object.values(ctx.state.changes).some((c) => c.sha === r && broken(c)),
  );
}

/**
 * With `awaitRevert`, a change joining a broken stream is blocked at once when it does not revert
 * the culprit and no untested revert is ahead of it: it contains the culprit and nothing undoes it.
 */
export function blockAtOnce(ctx: StepContext, stream: StreamState, change: ChangeRecord): boolean {
  if (!ctx.state.settings.awaitRevert || !stream.broken) return false;
  if (revertsCulprit(ctx, stream, change)) return false;
  return !stream.broken.line.some((id) => revertsCulprit(ctx, stream, ctx.state.changes[id]!));
}

/** Position of the stream's change with this sha in the order the queue learned of changes. */
export function seqOfSha(ctx: StepContext, stream: StreamState, sha: string | null | undefined): number | undefined {
  return Object.values(ctx.state.changes).find((c) => c.stream === stream.id && c.sha === sha)?.seq;
}

/**
 * Changes of `stream` blocked at once (untested) by `culprit`, merged after position `after` and up
 * to `upTo`, oldest first: blocked on the belief that the culprit was still in.
 */
export function blockedAtOnce(
  ctx: StepContext,
  stream: StreamState,
  culprit: string,
  after: number,
  upTo = Infinity,
): ChangeRecord[] {
  const untested = (c: ChangeRecord) => {
    const v = latestVerdict(ctx, c.id);
    return v?.verdict === 'blocked' && v.run === undefined;
  };
  return Object.values(ctx.state.changes)
    .filter(
      (c) =>
        c.stream === stream.id &&
        c.seq > after &&
        c.seq <= upTo &&
        c.state === 'done' &&
        c.culprit === culprit &&
        untested(c),
    )
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Changes of `stream` merged after `goodSha` that were blocked at once by `culprit`: a pass at
 * `goodSha` ends the belief that blocked them, so their verdicts are retracted and they are
 * returned, to be tested like any change. A culprit among them is not lost.
 */
export function reopenBlockedAtOnce(
  ctx: StepContext,
  stream: StreamState,
  goodSha: string | null,
  culprit: string,
): string[] {
  const reopened = blockedAtOnce(ctx, stream, culprit, seqOfSha(ctx, stream, goodSha) ?? Infinity);
  reopened.forEach((c) => retract(ctx, c));
  return reopened.map((c) => c.id);
}

/** A failing fix-line prefix: its changes still contain the culprit and are blocked by it. */
export function failFixLine(ctx: StepContext, run: Run): void {
  const stream = ctx.state.streams[run.line];
  if (!stream?.broken) return;
  const view = viewLine(ctx.state, run.line);
  const end = view.changes.indexOf(run.end);
  const lowestPass = view.bounds.findIndex((n) => n > 0);
  if (lowestPass >= 0 && lowestPass < end) {
    log(
      ctx,
      'info',
      `run ${run.key} failed above a passing prefix of ${stream.id}; the changes after the fix are tested again`,
    );
    return;
  }
  // A run below still going may show the fix, with a new culprit after it making this prefix fail:
  // the lower result decides first (if it fails too, the changes above it are tested again).
  const below = view.inFlightRuns.find(
    (r) => r !== run && view.changes.indexOf(r.end) >= 0 && view.changes.indexOf(r.end) < end,
  );
  if (below) {
    log(
      ctx,
      'info',
      `run ${run.key} failed on ${stream.id}'s fix line; waiting for run ${below.key} below it, which may show the fix`,
    );
    return;
  }
  const covered = view.changes.slice(0, end + 1);
  const culprit = stream.broken.culprit;
  const revert = ctx.state.settings.revertAware
    ? covered.find((id) => revertsCulprit(ctx, stream, ctx.state.changes[id]!))
    : undefined;
  const confirmedAfter = failuresToBlockRevert(ctx);
  if (revert && revert !== run.end) {
    // The revert may well have fixed the stream and a later change broken it again: test the revert
    // alone, until it has failed as often as a revert must to be blocked. Failures above it do not
    // count: a change after the revert may break the tests anew, and one flaky failure of the revert
    // with one such failure would block (and hide) that change.
    const lines = liveRuns(ctx.state, run.line);
    const revertFailures = lines.filter((r) => r.end === revert && r.state === 'failed').length;
    if (revertFailures < confirmedAfter) {
      if (!lines.some((r) => r.end === revert && isInFlight(r)))
        createRunAt(ctx, view, view.changes.indexOf(revert), 'probe');
      log(
        ctx,
        'info',
        `run ${run.key} failed after ${revert}, which reverts the culprit ${culprit}; testing the revert alone`,
      );
      return;
    }
  } else if (revert) {
    const failures = liveRuns(ctx.state, run.line).filter((r) => r.state === 'failed' && r.end === run.end).length;
    if (failures < confirmedAfter) {
      log(
        ctx,
        'info',
        `run ${run.key} failed on top of ${revert}, which reverts the culprit ${culprit}; re-running before blocking`,
      );
      return;
    }
  }
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
  supersedeLine(ctx, stream.id, `${stream.id} is fixed`);
  const passed = view.changes.slice(0, highest + 1);
  const rest = view.changes.slice(highest + 1);
  stream.broken = null;
  stream.good = ctx.state.changes[passed.at(-1)!]!.sha;
  stream.goodRun = passRun?.key ?? null;
  verdict(ctx, passed[0]!, 'fixed', { culprit: broken.culprit, run: first?.key });
  for (const id of passed.slice(1)) verdict(ctx, id, 'passed', { run: passRun?.key });
  // changes blocked at once after the passing prefix (a flaky failure had blocked the revert, say)
  const reopened = reopenBlockedAtOnce(ctx, stream, stream.good, broken.culprit);
  ctx.state.active.push(
    ...[...rest, ...reopened].sort((a, b) => ctx.state.changes[a]!.seq - ctx.state.changes[b]!.seq),
  );
  notice(ctx, 'info', 'stream-fixed', `${stream.id} passes again: ${passed[0]} fixed ${broken.culprit}`, passed[0]);
}

/**
 * How often a revert of the culprit (or a tip check) must fail before the stream counts as still
 * broken there: a failing revert is more likely a flake than a second breakage.
 */
export function failuresToBlockRevert(ctx: StepContext): number {
  return 1 + Math.max(1, ctx.state.settings.confirm);
}
