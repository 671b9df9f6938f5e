// Verdicts: records a change's final verdict (taking back or keeping one told before) and takes one
// back. Changes: the change, every line it was in, the verdict list, stats. Emits: report effects.
import type { StepContext } from './context.ts';
import { log, notice, short, stripUndefined } from './emit.ts';
import { own } from './own.ts';
import type { ChangeRecord, VerdictKind, VerdictRecord } from './types.ts';

/**
 * Records a final verdict, removes the change from every line and emits a report effect. A verdict
 * the change was told before and that still stands (a provisional pass, a pass while its test was
 * quarantined) is taken back: marked retracted, so that one stands. A provisional pass confirmed
 * by a final `passed` stays as it was told instead, and nothing more is reported.
 */
export function verdict(ctx: StepContext, id: string, kind: VerdictKind, extra: Partial<VerdictRecord> = {}): void {
  const { at } = ctx;
  const change = own(ctx.state.changes, id);
  if (!change) return;
  const early = change.passedEarly;
  const told = change.state === 'done' || early !== undefined ? standingVerdict(ctx, id) : undefined;
  delete change.passedEarly;
  change.state = 'done';
  change.verdict = kind;
  if (extra.culprit && kind !== 'culprit') change.culprit = extra.culprit;
  else delete change.culprit;
  const stream = ctx.state.streams[change.stream];
  ctx.state.active = ctx.state.active.filter((c) => c !== id);
  if (stream) {
    stream.pending = stream.pending.filter((c) => c !== id);
    if (stream.broken) stream.broken.line = stream.broken.line.filter((c) => c !== id);
  }
  const record: VerdictRecord = { change: id, verdict: kind, at, ...stripUndefined(extra) };
  ctx.state.stats.verdicts += 1;
  if (early !== undefined && kind === 'passed') {
    if (told?.provisional) {
      delete told.provisional;
      if (record.run) told.run = record.run;
    }
    log(ctx, 'info', `the early pass of ${id} stands: the failure of run ${early} was a flake`);
    return;
  }
  if (told) {
    told.retracted = true;
    log(ctx, 'info', `${id}'s earlier verdict ${told.verdict} is taken back: ${kind}`);
  }
  ctx.state.verdicts.push(record);
  ctx.effects.push({ type: 'report', change: id, verdict: record });
  if (!change.number && (kind === 'culprit' || kind === 'fixed')) tellDirectPush(ctx, change, record);
}

/** The change's latest verdict in the list, unless it was taken back (or the list no longer holds it). */
function standingVerdict(ctx: StepContext, id: string): VerdictRecord | undefined {
  const v = latestVerdict(ctx, id);
  return v && !v.retracted ? v : undefined;
}

/**
 * A change without a review (a direct push, a commit of a watched repository) has no page where
 * people read: its culprit and fixed verdicts are also the queue's notices, naming its author (and,
 * for a culprit, the command that reverts it: the bot has no write access to a watched repository).
 */
function tellDirectPush(ctx: StepContext, change: ChangeRecord, v: VerdictRecord): void {
  const by = change.author ? ` by ${change.author}` : '';
  const what = `commit ${short(change.sha)} "${change.title ?? ''}"${by}, pushed to ${change.branch} without review`;
  const message =
    v.verdict === 'culprit'
      ? `${what}, breaks the system tests (culprit, confidence ${(v.confidence ?? 0).toFixed(4)}); ` +
        `revert it with: git revert ${change.sha}`
      : `${what}, fixed ${v.culprit ?? 'the break'}: the system tests pass again`;
  notice(ctx, v.verdict === 'culprit' ? 'warn' : 'info', `push-${v.verdict}`, message, change.id);
}

/** Takes back a change's verdict: the record stays in the history marked retracted, the change is queued again. */
export function retract(ctx: StepContext, c: ChangeRecord): void {
  const v = latestVerdict(ctx, c.id);
  if (v) v.retracted = true;
  delete c.passedEarly;
  c.state = 'queued';
  delete c.verdict;
  delete c.culprit;
}

export function latestVerdict(ctx: StepContext, id: string): VerdictRecord | undefined {
  for (let i = ctx.state.verdicts.length - 1; i >= 0; i--)
    if (ctx.state.verdicts[i]!.change === id) return ctx.state.verdicts[i];
  return undefined;
}
