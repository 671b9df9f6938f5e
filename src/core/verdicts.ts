// Verdicts: records a change's final verdict and takes one back. Changes: the change, every line it
// was in, the verdict list, stats. Emits: report effects.
import type { StepContext } from './context.ts';
import { stripUndefined } from './emit.ts';
import { own } from './own.ts';
import type { ChangeRecord, VerdictKind, VerdictRecord } from './types.ts';

/** Records a final verdict, removes the change from every line and emits a report effect. */
export function verdict(
  ctx: StepContext,
  id: string,
  kind: VerdictKind,
  at: number,
  extra: Partial<VerdictRecord> = {},
): void {
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
  ctx.state.verdicts.push(record);
  ctx.state.stats.verdicts += 1;
  ctx.effects.push({ type: 'report', change: id, verdict: record });
}

/** Takes back a change's verdict: the record stays in the history marked retracted, the change is queued again. */
export function retract(ctx: StepContext, c: ChangeRecord): void {
  const v = latestVerdict(ctx, c.id);
  if (v) v.retracted = true;
  c.state = 'queued';
  delete c.verdict;
  delete c.culprit;
}

export function latestVerdict(ctx: StepContext, id: string): VerdictRecord | undefined {
  for (let i = ctx.state.verdicts.length - 1; i >= 0; i--)
    if (ctx.state.verdicts[i]!.change === id) return ctx.state.verdicts[i];
  return undefined;
}
