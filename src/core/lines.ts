// Read-only views of the two kinds of line: the main line under test and a broken stream's fix line.
import type { SearchView } from './strategies/strategy.ts';
import type { QueueState, Run } from './types.ts';

export const MAIN = 'main';

const IN_FLIGHT = new Set(['dispatched', 'running']);

export function isInFlight(run: Run): boolean {
  return IN_FLIGHT.has(run.state);
}

/** Runs that still count for `line`: not superseded, not proven flaky. */
export function liveRuns(state: QueueState, line: string): Run[] {
  return Object.values(state.runs).filter((r) => r.line === line && !r.superseded && !r.flake);
}

/** The changes of a line, oldest first. */
export function lineChanges(state: QueueState, line: string): string[] {
  if (line === MAIN) return state.active;
  return state.streams[line]?.broken?.line ?? [];
}

export interface LineView {
  line: string;
  changes: string[];
  /** Per position: live runs in flight ending there. */
  inFlight: number[];
  /** Per position: finished live runs ending there whose result is the line's bound (failed for main, passed for a fix line). */
  bounds: number[];
  inFlightRuns: Run[];
}

/** Counts, per position of the line, the runs in flight and the bounding results. */
export function viewLine(state: QueueState, line: string): LineView {
  const changes = lineChanges(state, line);
  const index = new Map(changes.map((id, i) => [id, i]));
  const inFlight = changes.map(() => 0);
  const bounds = changes.map(() => 0);
  const boundState = line === MAIN ? 'failed' : 'passed';
  const inFlightRuns: Run[] = [];
  for (const run of liveRuns(state, line)) {
    const pos = index.get(run.end);
    if (pos === undefined) continue;
    if (isInFlight(run)) {
      inFlight[pos]! += 1;
      inFlightRuns.push(run);
    } else if (run.state === boundState) bounds[pos]! += 1;
  }
  return { line, changes, inFlight, bounds, inFlightRuns };
}

/** Flake and culprit rates the strategies use, with a weak prior so a new queue starts cautious. */
export function estimatedRates(state: QueueState): { flakeRate: number; culpritRate: number } {
  const s = state.stats;
  // a flake is a failure of a run that should have passed: count it against the runs that should
  // have passed (those that did, and the flakes), not against every run, whose real failures would
  // bias it low; the prior is 1 flake in 20 runs
  const passes = s.runsFinished - s.runsFailed;
  return {
    flakeRate: (s.flakes + 1) / (passes + s.flakes + 20),
    culpritRate: (s.culprits + 1) / (s.verdicts + 20),
  };
}

export function searchView(state: QueueState, view: LineView, free: number, confirm: number): SearchView {
  const rates = estimatedRates(state);
  return {
    size: view.changes.length,
    failures: view.bounds,
    inFlight: view.inFlight,
    free,
    flakeRate: rates.flakeRate,
    culpritRate: rates.culpritRate,
    confirm,
    confidence: state.settings.confidence,
  };
}
