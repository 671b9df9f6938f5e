// Scheduling: what to run while runners are free, in order: a priority change, the search for a culprit,
// tip checks, fix lines (a priority change there first), then batches of new changes (as the queue's
// batching policy says). Changes: runs. Emits: dispatches.
import type { StepContext } from './context.ts';
import { revertInDoubt } from './fix-line.ts';
import { dispatchCheck } from './tip-check.ts';
import { type LineView, MAIN, estimatedRates, isInFlight, searchView, viewLine } from './lines.ts';
import { posterior } from './strategies/posterior.ts';
import { createRunAt } from './runs.ts';
import { bisect } from './strategies/bisect.ts';
import type { Strategy } from './strategies/strategy.ts';
import type { QueueState } from './types.ts';
import { batchingOf, type HeldChange } from './batching/index.ts';
import { allFlakesPlausible, planSignatures, signatureSearches } from './signatures.ts';
import { dispatchPriority } from './priority.ts';

export function strategyOf(ctx: StepContext): Strategy {
  return ctx.strategies[ctx.state.settings.strategy] ?? bisect;
}

/** Whether runs over new changes go on while a failure is searched (and are kept when one is found). */
export function speculating(ctx: StepContext): boolean {
  const { settings } = ctx.state;
  return batchingOf(settings.batching).batchesWhileSearching(settings) || !!strategyOf(ctx).batchWhileSearching;
}

/**
 * Dispatches runs while runners are free: first the search for a culprit in the main line, then
 * the broken streams' fix lines, then a batch of the main line's untested changes.
 */
export function schedule(ctx: StepContext): void {
  const { at } = ctx;
  if (ctx.state.paused) return;
  const settings = ctx.state.settings;
  let free = settings.maxParallel - Object.values(ctx.state.runs).filter(isInFlight).length;
  if (free <= 0) return;
  let main = viewLine(ctx.state, MAIN);
  if (dispatchPriority(ctx, main, free) > 0) {
    free -= 1;
    main = viewLine(ctx.state, MAIN);
  }
  const searching = main.bounds.some((n) => n > 0);
  if (searching && !speculating(ctx) && flakePlausible(ctx, main)) {
    // the new changes' batch goes first: it holds the suspects too, so the search counts it as a
    // confirmation in flight instead of sending one of its own
    free -= dispatchBatches(ctx, main, free);
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
    free -= dispatchAt(ctx, main, searchPositions(ctx, main, width));
  }
  for (const stream of Object.values(ctx.state.streams)) {
    if (free <= 0) break;
    if (dispatchCheck(ctx, stream)) free -= 1;
  }
  const broken = Object.values(ctx.state.streams)
    .filter((s) => s.broken && s.broken.line.length > 0)
    .sort((a, b) => a.broken!.since - b.broken!.since);
  for (const stream of broken) {
    if (free <= 0) return;
    let view = viewLine(ctx.state, stream.id);
    // a priority change merged while its stream is broken waits in the fix line: it jumps that line,
    // unless the revert failed once (a run over it would fail with the revert)
    if (revertInDoubt(ctx, stream, view) < 0 && dispatchPriority(ctx, view, free) > 0) {
      free -= 1;
      if (free <= 0) return;
      view = viewLine(ctx.state, stream.id);
    }
    if (view.bounds.some((n) => n > 0)) {
      if (probing(view)) continue;
      const sv = searchView(ctx.state, view, free, 0);
      free -= dispatchAt(ctx, view, bisect.plan(sv));
      continue;
    }
    // while the revert's own failure may be a flake, only the revert runs again: a batch over the
    // changes after it would fail with it
    const revert = revertInDoubt(ctx, stream, view);
    if (revert < 0) free -= dispatchBatches(ctx, view, free);
    else if ((view.inFlight[revert] ?? 0) === 0) free -= dispatchAt(ctx, view, [revert]);
  }
  if ((!searching || speculating(ctx)) && free > 0) {
    main = viewLine(ctx.state, MAIN);
    if (heldUntil(ctx.state, main, at) === null) dispatchBatches(ctx, main, free);
  }
}

/** Where the search for a culprit in the main line runs next: per failure signature when runs report tests. */
function searchPositions(ctx: StepContext, main: LineView, width: number): number[] {
  const { confirm } = ctx.state.settings;
  const searches = signatureSearches(ctx.state, main, width, confirm);
  if (searches) return planSignatures(searches, main, { strategy: strategyOf(ctx), fallback: bisect, free: width });
  const sv = searchView(ctx.state, main, width, confirm);
  const positions = strategyOf(ctx).plan(sv);
  return positions.length === 0 && main.inFlightRuns.length === 0 ? bisect.plan(sv) : positions;
}

/**
 * How likely "every failure in the main line was a flake" must be for a batch over new changes to go
 * out beside the search, as it would without one. It contains the suspects, so it is evidence as well:
 * its pass clears them and passes the new changes at once. Below one half, so that the changes in a
 * small failed batch are cleared in one round when it flaked (measured in README, "Benchmark").
 */
const FLAKE_PLAUSIBLE = 0.3;

function flakePlausible(ctx: StepContext, main: LineView): boolean {
  const searches = signatureSearches(ctx.state, main, 0, ctx.state.settings.confirm);
  if (searches) return allFlakesPlausible(searches, FLAKE_PLAUSIBLE);
  const rates = estimatedRates(ctx.state);
  return posterior(main.bounds, rates.flakeRate, rates.culpritRate).none >= FLAKE_PLAUSIBLE;
}

/**
 * The lone untested change of the main line held for company (see the batching policy) and when it
 * goes out anyway, or null when nothing is held. Hosts tick the queue; the simulator wakes it then.
 */
export function heldChange(state: QueueState, main = viewLine(state, MAIN), at = -Infinity): HeldChange | null {
  return batchingOf(state.settings.batching).held(state, main, at);
}

/** When the held change goes out anyway (see `heldChange`), or null. */
export function heldUntil(state: QueueState, main = viewLine(state, MAIN), at = -Infinity): number | null {
  return heldChange(state, main, at)?.until ?? null;
}

/** Dispatches the runs the batching policy sends over the untested tail of a line. Returns how many. */
export function dispatchBatches(ctx: StepContext, view: LineView, free: number): number {
  const ends = batchingOf(ctx.state.settings.batching).batchEnds(view, ctx.state.settings, free);
  for (const end of ends) createRunAt(ctx, view, end, 'batch');
  return ends.length;
}

export function dispatchAt(ctx: StepContext, view: LineView, positions: number[]): number {
  for (const pos of positions) createRunAt(ctx, view, pos, (view.bounds[pos] ?? 0) > 0 ? 'confirm' : 'probe');
  return positions.length;
}
