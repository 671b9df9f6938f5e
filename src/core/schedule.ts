// Scheduling: what to run while runners are free, in order: the search for a culprit, tip checks,
// fix lines, then batches of new changes. Changes: runs. Emits: dispatches.
import type { StepContext } from './context.ts';
import { dispatchCheck } from './tip-check.ts';
import { type LineView, MAIN, estimatedRates, isInFlight, searchView, viewLine } from './lines.ts';
import { posterior } from './strategies/posterior.ts';
import { createRunAt } from './runs.ts';
import { bisect } from './strategies/bisect.ts';
import type { Strategy } from './strategies/strategy.ts';

export function strategyOf(ctx: StepContext): Strategy {
  return ctx.strategies[ctx.state.settings.strategy] ?? bisect;
}

/** Whether runs over new changes go on while a failure is searched (and are kept when one is found). */
export function speculating(ctx: StepContext): boolean {
  return ctx.state.settings.speculate || !!strategyOf(ctx).batchWhileSearching;
}

/**
 * Dispatches runs while runners are free: first the search for a culprit in the main line, then
 * the broken streams' fix lines, then a batch of the main line's untested changes.
 */
export function schedule(ctx: StepContext, at: number): void {
  if (ctx.state.paused) return;
  const settings = ctx.state.settings;
  let free = settings.maxParallel - Object.values(ctx.state.runs).filter(isInFlight).length;
  if (free <= 0) return;
  let main = viewLine(ctx.state, MAIN);
  const searching = main.bounds.some((n) => n > 0);
  if (searching && !speculating(ctx) && flakeLikelier(ctx, main)) {
    // the new changes' batch goes first: it holds the suspects too, so the search counts it as a
    // confirmation in flight instead of sending one of its own
    free -= dispatchBatches(ctx, main, free, at);
    main = viewLine(ctx.state, MAIN);
  }
  // Search rounds are synchronous: new probes go out once every probe of the round is back,
  // so that they split what is left evenly (k-ary search) instead of a half-known range.
  const probing = (view: LineView) => view.inFlightRuns.some((r) => r.kind === 'probe');
  if (searching && !probing(main)) {
    // search runs (probes and re-runs that confirm a failure) are limited to `searchWidth` at once;
    // confirmations of the first change may use every free runner
    const confirming = (main.bounds[0] ?? 0) > 0;
    const width =
      settings.searchWidth > 0 && !confirming
        ? Math.min(
            free,
            Math.max(
              0,
              settings.searchWidth - main.inFlightRuns.filter((r) => r.kind === 'probe' || r.kind === 'confirm').length,
            ),
          )
        : free;
    const sv = searchView(ctx.state, main, width, settings.confirm);
    let positions = strategyOf(ctx).plan(sv);
    if (positions.length === 0 && main.inFlightRuns.length === 0) positions = bisect.plan(sv);
    free -= dispatchAt(ctx, main, positions, at);
  }
  for (const stream of Object.values(ctx.state.streams)) {
    if (free <= 0) break;
    if (dispatchCheck(ctx, stream, at)) free -= 1;
  }
  const broken = Object.values(ctx.state.streams)
    .filter((s) => s.broken && s.broken.line.length > 0)
    .sort((a, b) => a.broken!.since - b.broken!.since);
  for (const stream of broken) {
    if (free <= 0) return;
    const view = viewLine(ctx.state, stream.id);
    if (view.bounds.some((n) => n > 0)) {
      if (probing(view)) continue;
      const sv = searchView(ctx.state, view, free, 0);
      free -= dispatchAt(ctx, view, bisect.plan(sv), at);
    } else free -= dispatchBatches(ctx, view, free, at);
  }
  if ((!searching || speculating(ctx)) && free > 0) dispatchBatches(ctx, viewLine(ctx.state, MAIN), free, at);
}

/**
 * Whether "every failure in the main line was a flake" is the likelier story: then a batch over new
 * changes goes out beside the search, as it would without one. It contains the suspects, so it is
 * evidence as well: its pass clears them and passes the new changes at once.
 */
function flakeLikelier(ctx: StepContext, main: LineView): boolean {
  const rates = estimatedRates(ctx.state);
  return posterior(main.bounds, rates.flakeRate, rates.culpritRate).none >= 0.5;
}

/** Dispatches runs over the untested tail of a line, each up to `batchMaxSize` changes. Returns how many. */
export function dispatchBatches(
  ctx: StepContext,
  view: LineView,
  free: number,
  at: number,
  maxSize = ctx.state.settings.batchMaxSize,
): number {
  const { batchMaxInFlight } = ctx.state.settings;
  let covered = -1;
  view.inFlight.forEach((n, i) => {
    if (n > 0 || (view.bounds[i] ?? 0) > 0) covered = i;
  });
  let batches = view.inFlightRuns.filter((r) => r.kind === 'batch').length;
  let sent = 0;
  while (sent < free && covered < view.changes.length - 1 && (batchMaxInFlight <= 0 || batches < batchMaxInFlight)) {
    const end = Math.min(covered + Math.max(1, maxSize), view.changes.length - 1);
    createRunAt(ctx, view, end, 'batch', at);
    covered = end;
    batches += 1;
    sent += 1;
  }
  return sent;
}

export function dispatchAt(ctx: StepContext, view: LineView, positions: number[], at: number): number {
  for (const pos of positions) createRunAt(ctx, view, pos, (view.bounds[pos] ?? 0) > 0 ? 'confirm' : 'probe', at);
  return positions.length;
}
