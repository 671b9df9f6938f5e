// Verdicts: records a change's final verdict (settling an early pass) and takes one back. Changes:
// the change, every line it was in, the verdict list, stats. Emits: report effects.
import type { StepContext } from './context.ts';
import { log, notice, short, stripUndefined } from './emit.ts';
import { own } from './own.ts';
import type { ChangeRecord, VerdictKind, VerdictRecord } from './types.ts';

/** Records a final verdict, removes the change from every line and emits a report effect. */
export function verdict(ctx: StepContext, id: string, kind: VerdictKind, extra: Partial<VerdictRecord> = {}): void {
  const { at } = ctx;
  const change = own(ctx.state.changes, id);
  if (!change) return;
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
  if (keptEarlyPass(ctx, change, record)) return;
  ctx.state.stats.verdicts += 1;
  ctx.state.verdicts.push(record);
  ctx.effects.push({ type: 'report', change: id, verdict: record });
  if (!change.number && (kind === 'culprit' || kind === 'fixed')) tellDirectPush(ctx, change, record);
}

/**
 * Settles a provisional `passed` (early-pass.ts) as the final verdict comes: a pass keeps it as it
 * was told (now on the run that passed), counted, and nothing more is reported (returns true); any
 * other verdict takes it back (its record, if the list still holds it, is marked retracted) and is
 * reported as usual.
 */
function keptEarlyPass(ctx: StepContext, change: ChangeRecord, final: VerdictRecord): boolean {
  if (change.passedEarly === undefined) return false;
  const run = change.passedEarly;
  const kind = final.verdict;
  delete change.passedEarly;
  const told = latestVerdict(ctx, change.id);
  const standing = told?.provisional && !told.retracted ? told : undefined;
  if (kind === 'passed') {
    if (standing) {
      delete standing.provisional;
      if (final.run) standing.run = final.run;
    }
    ctx.state.stats.verdicts += 1;
    log(ctx, 'info', `the early pass of ${change.id} stands: the failure of run ${run} was a flake`);
    return true;
  }
  if (standing) standing.retracted = true;
  log(ctx, 'info', `the early pass of ${change.id} is taken back: ${kind}`);
  return false;
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
