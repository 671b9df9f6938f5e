// Priority: a change marked to jump the line (a label, a hashtag, `/ost priority`) is covered by the
// next run at once, without `batch.hold` or the batch limits, even beside a search: in the main line,
// or in its stream's fix line while the stream is broken. Changes: runs. Emits: a dispatch.
import type { StepContext } from './context.ts';
import type { LineView } from './lines.ts';
import { createRunAt } from './runs.ts';

/**
 * Dispatches a run over a line (the main line or a fix line) up to its newest priority change,
 * unless a live run already covers it: one in flight, or one whose result counts in the line (a
 * failure in the main line, which the search takes from there; a pass in a fix line). Returns how
 * many runs went out (0 or 1).
 */
export function dispatchPriority(ctx: StepContext, line: LineView, free: number): number {
  if (free <= 0) return 0;
  let last = -1;
  line.changes.forEach((id, i) => {
    if (ctx.state.changes[id]?.priority) last = i;
  });
  if (last < 0) return 0;
  const covered = (counts: number[]) => counts.some((n, i) => n > 0 && i >= last);
  if (covered(line.inFlight) || covered(line.bounds)) return 0;
  createRunAt(ctx, line, last, 'batch');
  return 1;
}
