// The default strategy: k-ary search for the first failing prefix, then `flaky.confirm` more
// failures of that prefix before blaming it.
import { posterior } from './posterior.ts';
import { splitRange } from '../split.ts';
import { busyPositions, lowestFailure, type Blame, type SearchView, type Strategy } from './strategy.ts';

export const bisect: Strategy = {
  name: 'bisect',

  plan(view: SearchView): number[] {
    const top = lowestFailure(view);
    if (top < 0) return [];
    if (top === 0) {
      const wanted = 1 + view.confirm - (view.failures[0] ?? 0) - (view.inFlight[0] ?? 0);
      return Array.from({ length: Math.max(0, Math.min(view.free, wanted)) }, () => 0);
    }
    return splitRange(top, busyPositions(view), view.free);
  },

  decide(view: SearchView): Blame | null {
    const failures = view.failures[0] ?? 0;
    if (failures < 1 + view.confirm) return null;
    const post = posterior(view.failures, view.flakeRate, view.culpritRate);
    return { position: 0, confidence: post.first[0] ?? 0 };
  },
};
