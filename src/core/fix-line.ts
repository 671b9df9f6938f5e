// The broken stream and its fix line: changes after a culprit are tested on their own line until a
// prefix passes (a revert or a forward fix). Changes: streams' broken state and fix lines, the main
// line. Emits: fixed, passed and blocked verdicts, tip checks (dispatch), notices.
import type { StepContext } from './context.ts';
import { log, notice, short } from './emit.ts';
import { isInFlight, liveRuns, viewLine } from './lines.ts';
import { own } from './own.ts';
import { createRun, createRunAt, refsFor, supersede, supersedeLine } from './runs.ts';
import type { BrokenStream, ChangeRecord, Run, StreamState } from './types.ts';
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

/**
 * The check of a broken stream's tip: a pass means a change that did not revert the culprit (blocked
 * at once) fixed the stream. When one such change came since the last failing check, it is the fix
 * and gets `fixed`; when several came, they go back on the fix line, bounded by the check's pass,
 * and the fix-line search finds the first that passes. Otherwise the stream is whole again from the
 * checked tip.
 */
export function finishCheck(ctx: StepContext, run: Run, at: number): void {
  const stream = own(ctx.state.streams, run.line);
  if (!stream?.broken || run.state !== 'passed') return;
  const culprit = stream.broken.culprit;
  const tip = run.refs[stream.project] ?? null;
  const candidates = forwardFixCandidates(ctx, stream, tip, culprit);
  if (candidates.length > 1) {
    searchForwardFix(ctx, stream, run, candidates);
    return;
  }
  supersedeLine(ctx, stream.id, at, `${stream.id} passes again`);
  stream.good = tip ?? stream.good;
  stream.goodRun = run.key;
  const fixer = candidates[0];
  if (fixer) {
    retract(ctx, fixer);
    verdict(ctx, fixer.id, 'fixed', at, { culprit, run: run.key });
  }
  // changes merged after the checked tip were blocked at once on the belief that the culprit was
  // still in: that belief is gone, so they are reopened and tested like any change
  const reopened = reopenBlockedAtOnce(ctx, stream, stream.good, culprit);
  const rest = [...reopened, ...stream.broken.line].sort(
    (a, b) => ctx.state.changes[a]!.seq - ctx.state.changes[b]!.seq,
  );
  stream.broken = null;
  ctx.state.active.push(...rest);
  const again = reopened.length ? `; ${reopened.length} change(s) merged during the check are reopened and tested` : '';
  const by = fixer
    ? `${fixer.id}, which does not revert ${culprit}, fixed it`
    : `a change that does not revert ${culprit} fixed it`;
  notice(ctx, 'info', 'stream-fixed', `${stream.id} passes again at ${short(stream.good)}: ${by}${again}`, culprit);
}

/**
 * Changes of `stream` blocked at once by `culprit` (untested) up to the checked tip, after the tip of
 * its last failing check: one of them fixed the stream. Oldest first.
 */
function forwardFixCandidates(
  ctx: StepContext,
  stream: StreamState,
  tip: string | null,
  culprit: string,
): ChangeRecord[] {
  const seqOf = (sha: string | null | undefined) =>
    Object.values(ctx.state.changes).find((c) => c.stream === stream.id && c.sha === sha)?.seq;
  const tipSeq = seqOf(tip) ?? -Infinity;
  const failedSeqs = Object.values(ctx.state.runs)
    .filter((r) => r.kind === 'check' && r.line === stream.id && r.state === 'failed')
    .map((r) => seqOf(r.refs[stream.project]) ?? -Infinity);
  const after = Math.max(ctx.state.changes[culprit]?.seq ?? -Infinity, ...failedSeqs);
  return Object.values(ctx.state.changes)
    .filter(
      (c) =>
        c.stream === stream.id &&
        c.seq > after &&
        c.seq <= tipSeq &&
        c.state === 'done' &&
        c.culprit === culprit &&
        isBlockedUntested(ctx, c),
    )
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Several changes may have fixed the stream: they go back on its fix line, with the check's pass as
 * the pass of the line's last candidate, so that the fix-line search finds the first passing one
 * (it gets `fixed`; those before it stay blocked). Changes merged after the tip follow them.
 */
function searchForwardFix(ctx: StepContext, stream: StreamState, run: Run, candidates: ChangeRecord[]): void {
  const broken = stream.broken!;
  candidates.forEach((c) => retract(ctx, c));
  const after = reopenBlockedAtOnce(ctx, stream, run.refs[stream.project] ?? null, broken.culprit);
  broken.line = [...new Set([...candidates.map((c) => c.id), ...after, ...broken.line])].sort(
    (a, b) => ctx.state.changes[a]!.seq - ctx.state.changes[b]!.seq,
  );
  run.end = candidates.at(-1)!.id;
  run.changes = broken.line.slice(0, broken.line.indexOf(run.end) + 1);
  notice(
    ctx,
    'info',
    'forward-fix-search',
    `${stream.id} passes at ${short(run.refs[stream.project] ?? '')}: one of ${candidates.length} changes since ` +
      `${broken.culprit} fixed it without reverting it; testing them to find which`,
    broken.culprit,
  );
}

/**
 * Changes of `stream` merged after `goodSha` that were blocked at once (untested) by `culprit`, on the
 * belief that it was still in: a pass at `goodSha` ends that belief, so their verdicts are retracted
 * and they are returned, to be tested like any change. A culprit among them is not lost.
 */
function reopenBlockedAtOnce(ctx: StepContext, stream: StreamState, goodSha: string | null, culprit: string): string[] {
  const goodSeq =
    Object.values(ctx.state.changes).find((c) => c.stream === stream.id && c.sha === goodSha)?.seq ?? Infinity;
  const reopened = Object.values(ctx.state.changes).filter(
    (c) =>
      c.stream === stream.id &&
      c.seq > goodSeq &&
      c.state === 'done' &&
      c.culprit === culprit &&
      isBlockedUntested(ctx, c),
  );
  reopened.forEach((c) => retract(ctx, c));
  return reopened.map((c) => c.id);
}

/** Whether the change's verdict is `blocked` given at once, without a run of its own. */
function isBlockedUntested(ctx: StepContext, c: ChangeRecord): boolean {
  const v = latestVerdict(ctx, c.id);
  return v?.verdict === 'blocked' && v.run === undefined;
}

/** A failing fix-line prefix: its changes still contain the culprit and are blocked by it. */
export function failFixLine(ctx: StepContext, run: Run, at: number): void {
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
        createRunAt(ctx, view, view.changes.indexOf(revert), 'probe', at);
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
    if (r !== run && covered.includes(r.end) && isInFlight(r)) supersede(ctx, r, at, `prefix up to ${run.end} failed`);
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
    verdict(ctx, id, 'blocked', at, { culprit, run: run.key, ...(reason ? { reason } : {}) });
  });
}

/**
 * The first change of a broken stream's fix line passed: it gets `fixed`, the changes up to the
 * highest passing prefix get `passed`, the stream is whole again and the rest rejoins the main line.
 */
export function fix(ctx: StepContext, stream: StreamState, at: number): void {
  const broken = stream.broken!;
  const view = viewLine(ctx.state, stream.id);
  let highest = 0;
  view.bounds.forEach((n, i) => {
    if (n > 0) highest = i;
  });
  const passRun = liveRuns(ctx.state, stream.id).find((r) => r.state === 'passed' && r.end === view.changes[highest]);
  const first = liveRuns(ctx.state, stream.id).find((r) => r.state === 'passed' && r.end === view.changes[0]);
  supersedeLine(ctx, stream.id, at, `${stream.id} is fixed`);
  const passed = view.changes.slice(0, highest + 1);
  const rest = view.changes.slice(highest + 1);
  stream.broken = null;
  stream.good = ctx.state.changes[passed.at(-1)!]!.sha;
  stream.goodRun = passRun?.key ?? null;
  verdict(ctx, passed[0]!, 'fixed', at, { culprit: broken.culprit, run: first?.key });
  for (const id of passed.slice(1)) verdict(ctx, id, 'passed', at, { run: passRun?.key });
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

/** Changes blocked at once, since the last check, after which the tip may have been fixed forward. */
const CHECK_AFTER_CHANGES = 4;
/** With fewer new changes and no hint, the tip is still checked once every this many `recheckMs`. */
const CHECK_BACKSTOP = 6;

/**
 * Records a change blocked at once in a broken stream: it counts towards the next tip check, and
 * one whose title names the culprit (its short sha, its number, or its id) makes a check due at once.
 */
export function noteForwardFixCandidate(ctx: StepContext, broken: BrokenStream, change: ChangeRecord): void {
  broken.sinceCheck = (broken.sinceCheck ?? 0) + 1;
  const culprit = own(ctx.state.changes, broken.culprit);
  const title = change.title ?? '';
  const names = [
    broken.culprit,
    ...(culprit?.sha && culprit.sha.length >= 7 ? [culprit.sha.slice(0, 7)] : []),
    ...(culprit?.number ? [`#${culprit.number}`] : []),
  ];
  if (names.some((n) => title.includes(n))) broken.fixHint = true;
}

/**
 * With `awaitRevert`, checks the tip of a broken stream with nothing left to test, in case a change
 * fixed it without reverting the culprit. Only when such a fix may have landed: a blocked change
 * names the culprit, or CHECK_AFTER_CHANGES changes came since the last check; otherwise once
 * every CHECK_BACKSTOP x `recheckMs`. Never more often than `recheckMs`. A tip that failed its
 * check as often as a revert must fail to be blocked is not checked again until a new change moves
 * it: a pass is reliable, and failing again and again over a quiet weekend would only spend runners.
 * Returns whether a run went out.
 */
export function dispatchCheck(ctx: StepContext, stream: StreamState, at: number): boolean {
  const broken = stream.broken;
  // changes still waiting for a dependency are older than the tip and not in a line yet: a passing
  // tip would mark them good before they are tested, so no check until they are in
  if (!broken || !ctx.state.settings.awaitRevert || broken.line.length > 0 || stream.pending.length > 0 || !stream.tip)
    return false;
  const since = at - (broken.checkedAt ?? broken.since);
  const { recheckMs } = ctx.state.settings;
  if (since < recheckMs) return false;
  const mayBeFixed = broken.fixHint || (broken.sinceCheck ?? 0) >= CHECK_AFTER_CHANGES;
  if (!mayBeFixed && since < CHECK_BACKSTOP * recheckMs) return false;
  if (checking(ctx, stream)) return false;
  const failedChecks = Object.values(ctx.state.runs).filter(
    (r) => r.kind === 'check' && r.line === stream.id && r.end === stream.tip && r.state === 'failed',
  ).length;
  if (failedChecks >= failuresToBlockRevert(ctx)) return false;
  broken.checkedAt = at;
  broken.sinceCheck = 0;
  broken.fixHint = false;
  const refs = refsFor(ctx, []);
  refs[stream.project] = stream.tip;
  createRun(ctx, stream.id, stream.tip, 'check', at, 1, [], refs);
  return true;
}

/** Whether a tip check of `stream` is in flight. */
export function checking(ctx: StepContext, stream: StreamState): boolean {
  return Object.values(ctx.state.runs).some((r) => r.kind === 'check' && r.line === stream.id && isInFlight(r));
}
