// Property tests of culprits per failing test: random streams of changes, culprits breaking one or
// two of a few tests, flaky tests, runner counts and strategies, with a CI that reports its tests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/index.ts';
import { seeded } from '../../src/sim/random.ts';
import { scaledRuns } from '../helpers/fast-check-seed.ts';
import { Harness, streamRef } from '../helpers/harness.ts';

const TESTS = ['t0', 't1', 't2', 't3', 't4', 't5'];

interface World {
  n: number;
  /** change index -> the tests it breaks */
  culprits: [number, number[]][];
  runners: number;
  strategy: 'bisect' | 'bayes';
  /** Chance per run that each of the first two tests flakes. */
  flakeRate: number;
  seed: number;
  chunks: number[];
  confirm: number;
}

const world = (flaky: boolean) =>
  fc.record({
    n: fc.integer({ min: 1, max: 20 }),
    culprits: fc.uniqueArray(
      fc.tuple(
        fc.integer({ min: 0, max: 19 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 2 }),
      ),
      { maxLength: 3, selector: ([i]) => i },
    ),
    runners: fc.integer({ min: 1, max: 4 }),
    strategy: fc.constantFrom<'bisect' | 'bayes'>('bisect', 'bayes'),
    flakeRate: flaky ? fc.constantFrom(0.05, 0.2) : fc.constant(0),
    seed: fc.integer(),
    chunks: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 }),
    confirm: fc.constantFrom(0, 1),
  });

/**
 * Merges the world's changes in chunks, one chunk per round; each run fails the tests of the culprits
 * it holds without their revert, and the first two tests flake; a blamed culprit is reverted, and at
 * the end every culprit never blamed is too; runs until nothing is in flight.
 */
function play(w: World) {
  const h = new Harness({
    maxParallel: w.runners,
    strategy: w.strategy,
    confirm: w.confirm,
    confidence: w.flakeRate > 0 ? 0.999 : 0,
  });
  const ids = Array.from({ length: w.n }, (_, i) => `c${i + 1}`);
  const breaks = new Map<string, number[]>();
  for (const [i, tests] of w.culprits) if (i < w.n) breaks.set(`c${i + 1}`, tests);
  const reverted = new Set<string>();
  const rng = seeded(w.seed);
  const failing = (run: Run): string[] => {
    const holds = h.contents(run);
    const out = new Set<string>();
    for (const [c, tests] of breaks)
      if (holds.has(c) && !holds.has(`revert-${c}`)) tests.forEach((t) => out.add(TESTS[t]!));
    for (const t of TESTS.slice(0, 2)) if (rng.next() < w.flakeRate) out.add(t);
    return [...out].sort();
  };
  const revert = (which: string[]) => {
    const fresh = which.filter((c) => !reverted.has(c));
    if (fresh.length === 0) return;
    fresh.forEach((c) => reverted.add(c));
    h.merge(
      fresh.map((c) => `revert-${c}`),
      streamRef(),
      Object.fromEntries(fresh.map((c) => [`revert-${c}`, { reverts: [c] }])),
    );
  };
  let next = 0;
  for (let round = 0; round < 300; round++) {
    if (next < ids.length) {
      const chunk = w.chunks[round % w.chunks.length]!;
      h.merge(ids.slice(next, next + chunk));
      next += chunk;
    }
    if (h.inFlight().length === 0) h.wakeHeld();
    if (h.inFlight().length === 0 && next >= ids.length) {
      const open = [...breaks.keys()].filter((c) => !reverted.has(c));
      if (open.length === 0) break;
      revert(open);
      continue;
    }
    h.testRound(failing, TESTS.length);
    revert(
      [...h.verdicts().values()].filter((v) => v.verdict === 'culprit' && breaks.has(v.change)).map((v) => v.change),
    );
  }
  return { h, breaks, ids: [...ids, ...[...reverted].map((c) => `revert-${c}`)] };
}

describe('culprits per failing test: properties', () => {
  it('every change ends with exactly one verdict, flakes or not', () => {
    fc.assert(
      fc.property(world(true), (w) => {
        const { h, ids } = play(w);
        const counts = h.standingVerdicts();
        for (const id of ids) expect(counts.get(id), `verdicts for ${id}`).toBe(1);
        expect(h.inFlight()).toHaveLength(0);
      }),
      { numRuns: scaledRuns(120) },
    );
  });

  it('with no flakes, blames no innocent change, and names each culprit with tests it broke', () => {
    fc.assert(
      fc.property(world(false), (w) => {
        const { h, breaks } = play(w);
        for (const v of h.state.verdicts) {
          if (v.verdict !== 'culprit' || v.retracted) continue;
          expect(breaks.has(v.change), `${v.change} blamed`).toBe(true);
          const broke = breaks.get(v.change)!.map((t) => TESTS[t]!);
          for (const t of v.tests ?? []) expect(broke).toContain(t);
        }
      }),
      { numRuns: scaledRuns(150) },
    );
  });
});
