// Early passes (flaky.early_pass): a run that failed only in a test known to flake tells its
// changes `passed` at once, provisionally, and the final verdict keeps that pass or takes it back.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.ts';
import { statusDoc } from '../../src/report/status.ts';
import { toText } from '../../src/report/text.ts';
import { Harness } from '../helpers/harness.ts';
import { queueFile } from '../helpers/report.ts';

const HOUR = 3_600_000;

/** Runs rounds until nothing is in flight (bounded), with the CI `failing`. */
function settle(h: Harness, failing: (run: Run) => string[], rounds = 20): void {
  for (let n = 0; n < rounds && h.inFlight().length > 0; n++) h.testRound(failing);
  expect(h.inFlight()).toEqual([]);
}

/**
 * A queue whose suite/flaky flaked in 4 of 40 clean batches (about 10%, under quarantine), with
 * `settings`; every other test never failed.
 */
function flakyHistory(settings = {}): Harness {
  const h = new Harness({ maxParallel: 4, ...settings });
  for (let i = 0; i < 40; i++) {
    h.merge([`h${i}`]);
    h.wakeHeld();
    let once = i % 10 === 5;
    settle(h, () => (once ? ((once = false), ['suite/flaky']) : []));
  }
  expect(h.state.testBook!.tests['suite/flaky']).toMatchObject({ flakes: 4 });
  return h;
}

/** Merges `ids` and ends their batch run with `failed` as its failing tests; returns the run. */
function failBatch(h: Harness, ids: string[], failed: string[]): Run {
  h.merge(ids);
  h.wakeHeld();
  const [run] = h.inFlight();
  expect(run!.changes).toEqual(ids);
  h.now += HOUR;
  h.send({ type: 'run-finished', at: h.now, key: run!.key, status: 'failure', tests: { failed, passed: 99 } });
  return run!;
}

const reportsOf = (h: Harness, id: string) => h.reports().filter((v) => v.change === id);

describe('early passes', () => {
  it('tells the changes of a run that failed only in a known flaky test passed at once, and nothing more once it was a flake', () => {
    const h = flakyHistory();
    const run = failBatch(h, ['a', 'b'], ['suite/flaky']);
    for (const id of ['a', 'b']) {
      expect(reportsOf(h, id)).toEqual([
        expect.objectContaining({ verdict: 'passed', run: run.key, provisional: expect.any(Object) }),
      ]);
      expect(h.state.changes[id]).toMatchObject({ state: 'queued', passedEarly: run.key });
    }
    expect(toText(statusDoc('q', Object.assign(queueFile('q'), { state: h.state }), 'a'))).toContain(
      `It passed provisionally: run ${run.key} failed only in tests known to flake (flaky.early_pass), and another run makes sure.`,
    );
    const told = reportsOf(h, 'a')[0]!.provisional!;
    expect(told.tests).toEqual(['suite/flaky']);
    expect(told.flake).toBeGreaterThanOrEqual(0.8);
    // the search still makes sure: its run passes, and the pass stands without a second report
    expect(h.inFlight().length).toBeGreaterThan(0);
    settle(h, () => []);
    for (const id of ['a', 'b']) {
      expect(reportsOf(h, id)).toHaveLength(1);
      expect(h.state.changes[id]).toMatchObject({ state: 'done', verdict: 'passed' });
      expect(h.state.changes[id]!.passedEarly).toBeUndefined();
      expect(h.standingVerdicts().get(id)).toBe(1);
    }
    const kept = h.state.verdicts.filter((v) => v.change === 'a');
    expect(kept).toEqual([expect.objectContaining({ verdict: 'passed' })]);
    expect(kept[0]!.provisional).toBeUndefined();
    // it now names the run that passed
    expect(kept[0]!.run).not.toBe(run.key);
    expect(h.state.runs[kept[0]!.run!]).toMatchObject({ state: 'passed' });
    expect(h.state.testBook!.tests['suite/flaky']).toMatchObject({ flakes: 5 });
  });

  it('takes the early pass back when the known flaky test was broken after all: culprit and blocked are told', () => {
    const h = flakyHistory();
    failBatch(h, ['a', 'b', 'c'], ['suite/flaky']);
    expect(['a', 'b', 'c'].map((id) => reportsOf(h, id).length)).toEqual([1, 1, 1]);
    // b broke it: every run holding b fails the test
    settle(h, h.breaksTests({ b: ['suite/flaky'] }));
    expect(h.verdictOf('a')).toBe('passed');
    expect(reportsOf(h, 'a')).toHaveLength(1);
    expect(reportsOf(h, 'b').map((v) => v.verdict)).toEqual(['passed', 'culprit']);
    expect(reportsOf(h, 'c').map((v) => v.verdict)).toEqual(['passed', 'blocked']);
    const record = h.state.verdicts.find((v) => v.change === 'b' && v.verdict === 'passed')!;
    expect(record).toMatchObject({ retracted: true, provisional: expect.any(Object) });
    for (const id of ['a', 'b', 'c']) expect(h.standingVerdicts().get(id)).toBe(1);
    expect(
      h
        .reports()
        .filter((v) => v.verdict === 'culprit')
        .map((v) => v.change),
    ).toEqual(['b']);
  });

  it('gives none for a failure of a test that never flaked, nor for a run that failed one beside the flaky test', () => {
    const h = flakyHistory();
    failBatch(h, ['a'], ['suite/steady']);
    expect(reportsOf(h, 'a')).toEqual([]);
    settle(h, h.breaksTests({ a: ['suite/steady'] }));
    expect(h.verdictOf('a')).toBe('culprit');
    const g = flakyHistory();
    failBatch(g, ['x', 'y'], ['suite/flaky', 'suite/steady']);
    expect(g.reports().filter((v) => v.change === 'x' || v.change === 'y')).toEqual([]);
  });

  it('gives none with flaky.early_pass null, nor when the flake is less likely than it asks', () => {
    const off = flakyHistory({ earlyPass: null });
    failBatch(off, ['a', 'b'], ['suite/flaky']);
    expect(off.reports().filter((v) => v.change === 'a' || v.change === 'b')).toEqual([]);
    settle(off, () => []);
    expect(reportsOf(off, 'a')).toEqual([expect.objectContaining({ verdict: 'passed' })]);
    expect(reportsOf(off, 'a')[0]!.provisional).toBeUndefined();
    const strict = flakyHistory({ earlyPass: 0.999999 });
    failBatch(strict, ['a', 'b'], ['suite/flaky']);
    expect(strict.reports().filter((v) => v.change === 'a' || v.change === 'b')).toEqual([]);
  });

  it('tells the pass of a change reopened after its early pass was taken back', () => {
    const h = flakyHistory();
    failBatch(h, ['a', 'b'], ['suite/flaky']);
    settle(h, h.breaksTests({ a: ['suite/flaky'] }));
    expect(reportsOf(h, 'a').map((v) => v.verdict)).toEqual(['passed', 'culprit']);
    h.send({ type: 'command', at: h.now, verb: 'not-culprit', change: 'a', user: 'dev' });
    settle(h, () => []);
    expect(reportsOf(h, 'a').map((v) => v.verdict)).toEqual(['passed', 'culprit', 'passed']);
    expect(reportsOf(h, 'a').at(-1)!.provisional).toBeUndefined();
    expect(h.standingVerdicts().get('a')).toBe(1);
  });
});
