// The queue's estimate of the flake rate, which the strategies' confidence rests on: over 2000
// simulated changes it comes within 20% of the simulator's true flake rate, at f = 0.05 and 0.15.
// (Counting flakes against every finished run, real failures included, read 0.042 and 0.103 here.)
// The default queue spends few runs, so one seed sees only about 50 flakes at f = 0.05 and its
// estimate alone strays by some 15%: the test pools five seeds, as a calibration check should.
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/core/index.ts';
import { simulate } from '../../src/sim/simulate.ts';

const SEEDS = [1, 2, 3, 4, 5];

describe('the flake-rate estimate', () => {
  it.each([0.05, 0.15])(
    'converges to the simulated flake rate %s within a fifth over 2000 changes (mean of five seeds)',
    (flakeRate) => {
      const runs = SEEDS.map((seed) =>
        simulate({
          changes: 2000,
          arrivalRate: 1.5,
          culpritRate: 0.03,
          flakeRate,
          runners: 4,
          strategy: defaultSettings.strategy,
          batch: defaultSettings.batchMaxSize,
          seed,
        }),
      );
      const mean = runs.reduce((sum, m) => sum + m.flake_rate_estimate!, 0) / runs.length;
      expect(Math.abs(mean - flakeRate) / flakeRate).toBeLessThanOrEqual(0.2);
      // and no seed is far off: the estimate is not right on average only
      for (const m of runs) expect(Math.abs(m.flake_rate_estimate! - flakeRate) / flakeRate).toBeLessThanOrEqual(0.4);
      const blamed = runs.reduce((sum, m) => sum + m.blamed, 0);
      const innocent = runs.reduce((sum, m) => sum + m.blamed - m.culprits_found, 0);
      expect(innocent / blamed).toBeLessThanOrEqual(0.005);
    },
    300_000,
  ); // a hang guard: about 10 s on a quiet machine
});
