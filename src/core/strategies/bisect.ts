// The default strategy: k-ary search for the first failing prefix, then confirmation: at least
// `flaky.confirm` more failures of that prefix, and as many as the posterior needs to reach
// `flaky.confidence` given the queue's measured flake rate.
import { failuresNeeded, posterior } from './posterior.ts';
import { splitRange } from '../split.ts';
import {
  busyPositions,
  confirmingFailures,
  lowestFailure,
  type Blame,
  type SearchView,
  type Strategy,
} from './strategy.ts';

function firstConfidence(view: SearchView): number {
  return posterior(view.failures, view.flakeRate, view.culpritRate, view.firstFlakeRate).first[0] ?? 0;
}

export const bisect: Strategy = {
  name: 'bisect',

  plan(view: SearchView): number[] {
    const top = lowestFailure(view);
    if (top < 0) return [];
    if (top === 0) {
      const p0 = firstConfidence(view);
      if (p0 < 0.5) {
        // "it was a flake" is the likelier story, and one pass settles it: one run at a time, and none
        // while a run over the suspect is in flight (every run of the line contains it)
        const inFlight = view.inFlight.reduce((a, b) => a + b, 0);
        return inFlight === 0 && view.free > 0 ? [0] : [];
      }
      const byCount = 1 + view.confirm - confirmingFailures(view);
      const byPosterior =
        view.confidence > 0 ? failuresNeeded(firstConfidence(view), view.confidence, view.flakeRate) : 0;
      const wanted = Math.max(byCount, byPosterior) - (view.inFlight[0] ?? 0);
      return Array.from({ length: Math.max(0, Math.min(view.free, wanted)) }, () => 0);
    }
    return splitRange(top, busyPositions(view), view.free);
  },

  decide(view: SearchView): Blame | null {
    if ((view.failures[0] ?? 0) < 1 || confirmingFailures(view) < 1 + view.confirm) return null;
    const confidence = firstConfidence(view);
    return confidence >= view.confidence ? { position: 0, confidence } : null;
  },
};
