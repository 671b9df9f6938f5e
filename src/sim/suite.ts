// The simulator's test suite (`--tests N --flaky-tests M`): which tests each culprit breaks, and
// which tests flake in a run. The flake rate stays the chance that a good run fails at all; it is
// spread over the M flaky tests unevenly (the i-th one's share is proportional to 1 / i), as real
// suites have a few notorious tests and many that flake now and then.
import { seeded, type Random } from './random.ts';

export class SimSuite {
  private readonly ids: string[];
  /** Per flaky test: its chance to fail in a run of good code. */
  private readonly rates: number[];
  private readonly breakRng: Random;

  constructor(
    readonly size: number,
    flakyTests: number,
    flakeRate: number,
    private readonly flakeRng: Random,
    seed: number,
  ) {
    this.ids = Array.from({ length: size }, (_, i) => `suite/t${String(i).padStart(3, '0')}`);
    const m = Math.max(0, Math.min(flakyTests, size));
    const weights = Array.from({ length: m }, (_, i) => 1 / (i + 1));
    const sum = weights.reduce((a, b) => a + b, 0);
    // 1 - prod(1 - r_i) = flakeRate: a good run fails with the flake rate, as without tests
    this.rates = weights.map((w) => 1 - Math.pow(1 - flakeRate, w / sum));
    this.breakRng = seeded(seed ^ 0x3c6ef372);
  }

  /** The tests a new culprit breaks: one, sometimes two or three, anywhere in the suite. */
  breaks(): string[] {
    const r = this.breakRng.next();
    const count = Math.min(this.size, r < 0.7 ? 1 : r < 0.9 ? 2 : 3);
    const out = new Set<string>();
    while (out.size < count) out.add(this.ids[Math.floor(this.breakRng.next() * this.size)]!);
    return [...out];
  }

  /** The tests that fail in a run whose prefix holds culprits breaking `broken`: those and the flakes. */
  failing(broken: Iterable<string>): string[] {
    const out = new Set(broken);
    this.rates.forEach((rate, i) => {
      if (this.flakeRng.next() < rate) out.add(this.ids[i]!);
    });
    return [...out].sort();
  }
}
