// Seeded random numbers for the simulator, so that a seed always gives the same stream and results.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Exponentially distributed with the given rate (mean 1 / rate). */
  exponential(rate: number): number;
}

export function seeded(seed: number): Random {
  const rng = xoroshiro128plus(seed);
  const next = () => uniformFloat64(rng);
  return {
    next,
    exponential: (rate) => -Math.log(1 - next()) / rate,
  };
}
