// The interface a culprit-finding strategy implements, and the view of a line it decides on.

/**
 * What a strategy sees of the main line. Positions index the line's changes, oldest first;
 * the prefix before position 0 is known good. Passes are trusted and already applied, so the
 * only results left are failures.
 */
export interface SearchView {
  /** Number of changes in the line. */
  size: number;
  /** failures[i]: failed runs whose prefix ends at position i. */
  failures: readonly number[];
  /** inFlight[i]: runs in flight whose prefix ends at position i. */
  inFlight: readonly number[];
  /** Runners free for this line now. */
  free: number;
  /** The queue's estimated probability that a run fails for no reason in the code. */
  flakeRate: number;
  /** The chance of a first flake, when it differs from later ones (a test that never flaked). */
  firstFlakeRate?: number;
  /** The queue's estimated probability that a change breaks the tests. */
  culpritRate: number;
  /** `flaky.confirm`: extra failures wanted before blaming. */
  confirm: number;
  /** `flaky.confidence`: posterior wanted before blaming. */
  confidence: number;
  /**
   * Failures above position 0 count toward `confirm` as well: they all contain it, and (per failing
   * test) failed the same test. Off for one bit per run, where a failure above may be another culprit.
   */
  confirmAbove?: boolean;
}

/** The failures that count toward `flaky.confirm` for the change at position 0. */
export function confirmingFailures(view: SearchView): number {
  return view.confirmAbove ? view.failures.reduce((a, b) => a + b, 0) : (view.failures[0] ?? 0);
}

export interface Blame {
  /** Always 0 today: only the change right after the last good prefix can be blamed. */
  position: number;
  confidence: number;
}

export interface Strategy {
  name: string;
  /** Positions to test next (a position may repeat, to confirm). Called only when failures exist. */
  plan(view: SearchView): number[];
  /** Whether the change at position 0 is to be blamed now. */
  decide(view: SearchView): Blame | null;
  /** Keep dispatching runs over new changes while a failure is searched (per-change testing does). */
  batchWhileSearching?: boolean;
}

/** Lowest position with a recorded failure, or -1. */
export function lowestFailure(view: SearchView): number {
  return view.failures.findIndex((n) => n > 0);
}

/** Positions in flight, one entry per run. */
export function busyPositions(view: SearchView): number[] {
  const out: number[] = [];
  view.inFlight.forEach((n, i) => {
    for (let j = 0; j < n; j++) out.push(i);
  });
  return out;
}
