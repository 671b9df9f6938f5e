// Changes blocked at once in a broken stream: without a revert of the culprit ahead of them they are
// blocked untested, counted towards the next tip check (and noted as possible forward fixes), and
// reopened when a pass shows the belief that blocked them wrong. Shared by the fix line (fix-line.ts)
// and the tip checks (tip-check.ts). Changes: verdicts (retracted), broken streams' counters.
import type { StepContext } from './context.ts';
import { own } from './own.ts';
import type { BrokenStream, ChangeRecord, StreamState } from './types.ts';
import { latestVerdict, retract } from './verdicts.ts';

/**
 * True when `change` reverts the culprit of its broken stream, a change blocked by it (a culprit
 * masked by the first one is reverted the same way), or another culprit named after it in the same
 * stream (with test results, one batch can hold two: the stream is whole once both are undone).
 */
export function revertsCulprit(ctx: StepContext, stream: StreamState, change: ChangeRecord): boolean {
  const culprit = stream.broken?.culprit;
  if (!culprit || !change.reverts?.length) return false;
  const from = own(ctx.state.changes, culprit)?.seq ?? Infinity;
  const broken = Object.values(ctx.state.changes).filter(
    (c) =>
      c.stream === stream.id &&
      (c.id === culprit || c.culprit === culprit || (c.verdict === 'culprit' && c.seq > from)),
  );
  return change.reverts.some((r) => broken.some((c) => namesChange(r, c)));
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

/** Whether `ref`, as a revert names what it reverts (an id, a sha, or 7+ leading hex digits), names `change`. */
export function namesChange(ref: string, change: ChangeRecord): boolean {
  return ref === change.id || ref === change.sha || (ref.length >= 7 && change.sha.startsWith(ref));
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
 * How often a revert of the culprit (or a tip check) must fail before the stream counts as still
 * broken there: a failing revert is more likely a flake than a second breakage.
 */
export function failuresToBlockRevert(ctx: StepContext): number {
  return 1 + Math.max(1, ctx.state.settings.confirm);
}
