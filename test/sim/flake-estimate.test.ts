// The queue's estimate of the flake rate, which the strategies' confidence rests on: over 2000
// simulated changes it comes within 20% of the simulator's true flake rate, at f = 0.05 and 0.15.
// (Counting flakes against every finished run, real failures included, read 0.042 and 0.103 here.)
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/core/index.ts';
import { simulate } from '../../src/sim/simulate.ts';

describe('the flake-rate estimate', () => {
  it.each([0.05, 0.15])(
    'converges to the simulated flake rate %s within 20%% over 2000 changes',
    (flakeRate) => {
      const m = simulate({
        changes: 2000,
        arrivalRate: 1.5,
        culpritRate: 0.03,
        flakeRate,
        runners: 4,
        strategy: defaultSettings.strategy,
        batch: defaultSettings.batchMaxSize,
        seed: 1,
      });
      expect(Math.abs(m.flake_rate_estimate! - flakeRate) / flakeRate).toBeLessThanOrEqual(0.2);
      expect(m.false_blame_rate).toBe(0);
    },
    120_000,
  ); // a hang guard: about 5 s on a quiet machine
});
