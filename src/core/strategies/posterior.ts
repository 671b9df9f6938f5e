// Posterior over "the first failing change is at position i" under one-sided noise: a pass is
// trusted, a failure is a flake with the queue's flake rate.

export interface Posterior {
  /** p[i]: probability that position i is the first failing change. */
  first: number[];
  /** Probability that no change in the line fails and every failure was a flake. */
  none: number;
}

/**
 * Computes the posterior from the failures recorded per position. Prior: each change breaks the
 * tests independently with `culpritRate`. Under "first failing is i", a failure at a position >= i
 * is certain, and a failure below i is a flake with probability `flakeRate`; the first of those
 * flakes has `firstFlakeRate` when given (a test that never flaked is unlikely to, but once it
 * has, it may be one of the flaky ones).
 */
export function posterior(
  failures: readonly number[],
  flakeRate: number,
  culpritRate: number,
  firstFlakeRate = flakeRate,
): Posterior {
  const n = failures.length;
  const logRate = (x: number) => {
    const r = Math.min(Math.max(x, 0), 1);
    return r > 0 ? Math.log(r) : -Infinity;
  };
  const logF = logRate(flakeRate);
  const logFirst = logRate(firstFlakeRate);
  const flakes = (k: number) => (k > 0 ? logFirst + (k - 1) * logF : 0);
  const p = Math.min(Math.max(culpritRate, 1e-6), 1 - 1e-6);
  const total = failures.reduce((a, b) => a + b, 0);
  // failures at positions below i are flakes under hypothesis i
  const logs: number[] = [];
  let below = 0;
  for (let i = 0; i < n; i++) {
    const prior = Math.log(p) + i * Math.log(1 - p);
    logs.push(prior + flakes(below));
    below += failures[i] ?? 0;
  }
  const noneLog = n * Math.log(1 - p) + flakes(total);
  const max = Math.max(noneLog, ...logs);
  if (!Number.isFinite(max)) return { first: failures.map(() => 0), none: 1 };
  const weights = logs.map((l) => Math.exp(l - max));
  const noneW = Math.exp(noneLog - max);
  const sum = weights.reduce((a, b) => a + b, 0) + noneW;
  return { first: weights.map((w) => w / sum), none: noneW / sum };
}

/**
 * How many more failures of position 0 would lift its posterior to `target`, each further
 * failure there multiplying its odds against every other hypothesis by 1 / flakeRate.
 */
export function failuresNeeded(p0: number, target: number, flakeRate: number): number {
  if (p0 >= target) return 0;
  if (flakeRate <= 0) return 1;
  const odds = p0 / Math.max(1 - p0, 1e-300);
  const want = target / (1 - target);
  return Math.max(1, Math.ceil(Math.log(want / Math.max(odds, 1e-300)) / Math.log(1 / flakeRate)));
}
