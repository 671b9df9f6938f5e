// The batching both built-in policies share, driven by the queue's batch settings: runs of up to
// `batchMaxSize` changes, at most `batchMaxInFlight` of them in flight; with `speculate`, batches go
// on while a failure is searched; with `holdShare`, a lone change waits a while for a second one.
// The two policies differ in their defaults (index.ts).
import { isInFlight, type LineView } from '../lines.ts';
import type { QueueSettings, QueueState } from '../types.ts';
import type { BatchingPolicy, BatchSettings, HeldChange } from './policy.ts';

/** The highest position of a line that a run in flight or a bounding result covers, or -1. */
export function coveredUpTo(view: LineView): number {
  let covered = -1;
  view.inFlight.forEach((n, i) => {
    if (n > 0 || (view.bounds[i] ?? 0) > 0) covered = i;
  });
  return covered;
}

function batchEnds(view: LineView, settings: QueueSettings, free: number): number[] {
  const { batchMaxInFlight, batchMaxSize } = settings;
  let covered = coveredUpTo(view);
  let batches = view.inFlightRuns.filter((r) => r.kind === 'batch').length;
  const ends: number[] = [];
  while (
    ends.length < free &&
    covered < view.changes.length - 1 &&
    (batchMaxInFlight <= 0 || batches < batchMaxInFlight)
  ) {
    const end = Math.min(covered + Math.max(1, batchMaxSize), view.changes.length - 1);
    ends.push(end);
    covered = end;
    batches += 1;
  }
  return ends;
}

/**
 * With `holdShare`, a lone untested change of the main line waits for a second one, up to that share
 * of the mean run time after it was queued: two changes then share a run. Only a change that would
 * go out now is held: not one waiting for a runner, for the batch in flight, or for a search to end.
 */
function held(state: QueueState, main: LineView, at: number): HeldChange | null {
  const { holdShare, maxParallel, batchMaxInFlight, speculate } = state.settings;
  const runMs = state.stats.runMs;
  if (!(holdShare > 0) || runMs === undefined || state.paused) return null;
  if (Object.values(state.runs).filter(isInFlight).length >= maxParallel) return null;
  const batches = main.inFlightRuns.filter((r) => r.kind === 'batch').length;
  if (batchMaxInFlight > 0 && batches >= batchMaxInFlight) return null;
  if (!speculate && main.bounds.some((n) => n > 0)) return null;
  const untested = main.changes.slice(coveredUpTo(main) + 1);
  if (untested.length !== 1) return null;
  const id = untested[0]!;
  const until = state.changes[id]!.enqueuedAt + holdShare * runMs;
  return until > at ? { id, until } : null;
}

/** A policy that batches by the queue's settings, with its own defaults of them. */
export function batchingBySettings(name: string, defaults: BatchSettings): BatchingPolicy {
  return {
    name,
    defaults: Object.freeze({ ...defaults }),
    batchesWhileSearching: (settings) => settings.speculate,
    batchEnds,
    held,
  };
}
