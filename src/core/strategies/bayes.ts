// Flake-aware strategy: keeps a posterior over the first failing change, probes at its quantiles,
// and blames once the posterior of the first change reaches `flaky.confidence`.
import { failuresNeeded, posterior } from './posterior.ts';
import { busyPositions, type Blame, type SearchView, type Strategy } from './strategy.ts';

export const bayes: Strategy = {
  name: 'bayes',

  plan(view: SearchView): number[] {
    if (view.free <= 0 || view.size === 0) return [];
    const post = posterior(view.failures, view.flakeRate, view.culpritRate, view.firstFlakeRate);
    const p0 = post.first[0] ?? 0;
    const best = post.first.reduce((bi, p, i, all) => (p > all[bi]! ? i : bi), 0);
    if (best === 0 && (view.failures[0] ?? 0) > 0) {
      // The first change is the favourite and has failed: confirm it, in parallel where runners allow.
      const wanted = failuresNeeded(p0, view.confidence, view.flakeRate) - (view.inFlight[0] ?? 0);
      return Array.from({ length: Math.max(0, Math.min(view.free, wanted)) }, () => 0);
    }
    const busy = busyPositions(view);
    const slots = busy.length + view.free;
    // The lowest failing position is where "every failure was a flake" is tested: re-running it.
    const top = view.failures.findIndex((n) => n > 0);
    const cdf: number[] = [];
    let acc = 0;
    for (const p of post.first) cdf.push((acc += p));
    const chosen: number[] = [];
    for (let i = 1; i <= slots; i++) {
      const q = i / (slots + 1);
      const pos = cdf.findIndex((c) => c >= q);
      const at = pos < 0 || (top >= 0 && pos > top) ? top : pos;
      if (at >= 0 && !chosen.includes(at)) chosen.push(at);
    }
    const busySet = new Set(busy);
    return chosen
      .filter((p) => !busySet.has(p))
      .sort((a, b) => a - b)
      .slice(0, view.free);
  },

  decide(view: SearchView): Blame | null {
    if ((view.failures[0] ?? 0) < 1) return null;
    const post = posterior(view.failures, view.flakeRate, view.culpritRate, view.firstFlakeRate);
    const p0 = post.first[0] ?? 0;
    return p0 >= view.confidence ? { position: 0, confidence: p0 } : null;
  },
};
