// Tip checks of a broken stream: when a fix that is no revert may have landed, its tip is tested;
// a pass names the fix (searching among the changes blocked since the last failing check) and makes
// the stream whole. Changes: streams' broken state, fix lines, the main line. Emits: checks
// (dispatch), fixed verdicts, notices.
import type { StepContext } from './context.ts';
import { notice, short } from './emit.ts';
import { blockedAtOnce, failuresToBlockRevert, reopenBlockedAtOnce, seqOfSha } from './blocked-at-once.ts';
import { isInFlight } from './lines.ts';
import { own } from './own.ts';
import { createRun, refsFor } from './runs.ts';
import { rejoinMain } from './fix-line.ts';
import type { ChangeRecord, Run, StreamState } from './types.ts';
import { learnFlakesOfBreak } from './test-book.ts';
import { retract, verdict } from './verdicts.ts';

/**
 * The check of a broken stream's tip: a pass means a change that did not revert the culprit (blocked
 * at once) fixed the stream. When one such change came since the last failing check, it is the fix
 * and gets `fixed`; when several came, they go back on the fix line, bounded by the check's pass,
 * and the fix-line search finds the first that passes. Otherwise the stream is whole again from the
 * checked tip.
 */
export function finishCheck(ctx: StepContext, run: Run): void {
  const stream = own(ctx.state.streams, run.line);
  if (!stream?.broken || run.state !== 'passed') return;
  const culprit = stream.broken.culprit;
  const tip = run.refs[stream.project] ?? null;
  const candidates = forwardFixCandidates(ctx, stream, tip, culprit);
  if (candidates.length > 1) {
    searchForwardFix(ctx, stream, run, candidates);
    return;
  }
  learnFlakesOfBreak(ctx, stream, run);
  stream.good = tip ?? stream.good;
  stream.goodRun = run.key;
  const fixer = candidates[0];
  if (fixer) {
    retract(ctx, fixer);
    verdict(ctx, fixer.id, 'fixed', { culprit, run: run.key });
  }
  // changes merged after the checked tip were blocked at once on the belief that the culprit was
  // still in: that belief is gone, so they are reopened and tested like any change
  const reopened = reopenBlockedAtOnce(ctx, stream, stream.good, culprit);
  const rest = [...reopened, ...stream.broken.line];
  stream.broken = null;
  rejoinMain(ctx, stream.id, rest, `${stream.id} passes again`);
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
  const failedChecks = Object.values(ctx.state.runs)
    .filter((r) => r.kind === 'check' && r.line === stream.id && r.state === 'failed')
    .map((r) => seqOfSha(ctx, stream, r.refs[stream.project]) ?? -Infinity);
  const after = Math.max(ctx.state.changes[culprit]?.seq ?? -Infinity, ...failedChecks);
  return blockedAtOnce(ctx, stream, culprit, after, seqOfSha(ctx, stream, tip) ?? -Infinity);
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

/** Changes blocked at once, since the last check, after which the tip may have been fixed forward. */
const CHECK_AFTER_CHANGES = 4;
/** With fewer new changes and no hint, the tip is still checked once every this many `recheckMs`. */
const CHECK_BACKSTOP = 6;

/**
 * With `awaitRevert`, checks the tip of a broken stream with nothing left to test, in case a change
 * fixed it without reverting the culprit. Only when such a fix may have landed: a blocked change
 * names the culprit, or CHECK_AFTER_CHANGES changes came since the last check; otherwise once
 * every CHECK_BACKSTOP x `recheckMs`. Never more often than `recheckMs`. A tip that failed its
 * check as often as a revert must fail to be blocked is not checked again until a new change moves
 * it: a pass is reliable, and failing again and again over a quiet weekend would only spend runners.
 * Returns whether a run went out.
 */
export function dispatchCheck(ctx: StepContext, stream: StreamState): boolean {
  const { at } = ctx;
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
  createRun(ctx, { line: stream.id, end: stream.tip, kind: 'check', attempt: 1, changes: [], refs });
  return true;
}

/** Whether a tip check of `stream` is in flight. */
export function checking(ctx: StepContext, stream: StreamState): boolean {
  return Object.values(ctx.state.runs).some((r) => r.kind === 'check' && r.line === stream.id && isInFlight(r));
}
