// Tests of the simulator, its trace input and the `ost-gate simulate` command.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { computeMetrics } from '../../src/sim/metrics.ts';
import { simulate } from '../../src/sim/simulate.ts';
import { parseTrace } from '../../src/sim/trace.ts';
import { runsFloor, zCapacity } from '../../bench/floor.ts';

const reference = {
  changes: 120,
  arrivalRate: 1.5,
  culpritRate: 0.05,
  flakeRate: 0.05,
  runners: 4,
  strategy: 'bisect',
  batch: 20,
  seed: 7,
};

describe('simulate', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(simulate(reference)).toEqual(simulate(reference));
    expect(simulate({ ...reference, seed: 8 })).not.toEqual(simulate(reference));
  });

  it('with --tests, models a suite: same stream, no innocent blamed, fewer runs at a high flake rate', () => {
    const flaky = { ...reference, changes: 600, flakeRate: 0.3, culpritRate: 0.03 };
    const oneBit = simulate(flaky);
    expect(simulate({ ...flaky, tests: 0 })).toEqual(oneBit);
    const suite = simulate({ ...flaky, tests: 200, flakyTests: 10 });
    expect(suite).toEqual(simulate({ ...flaky, tests: 200, flakyTests: 10 }));
    expect(suite.changes).toBe(oneBit.changes);
    expect(suite.unfinished).toBe(0);
    expect(suite.false_blame_rate).toBe(0);
    expect(suite.culprits_found).toBeGreaterThan(0);
    expect(suite.runs_per_change).toBeLessThan(oneBit.runs_per_change);
    expect(suite.ttv_p90).toBeLessThan(oneBit.ttv_p90);
  });

  it('with --quarantine, a notorious test stops nothing and blames nobody; off, its flakes cost runs', () => {
    const notorious = { ...reference, changes: 600, flakeRate: 0.3, culpritRate: 0.03, tests: 200, flakyTests: 1 };
    const quarantined = simulate(notorious);
    expect(simulate({ ...notorious, quarantine: 0.2 })).toEqual(quarantined); // the default
    const off = simulate({ ...notorious, quarantine: null });
    expect(quarantined.false_blame_rate).toBe(0);
    expect(quarantined.unfinished).toBe(0);
    expect(quarantined.runs_per_change).toBeLessThan(off.runs_per_change);
    expect(quarantined.ttv_p90).toBeLessThan(off.ttv_p90);
  });

  it('with --early-pass, tells the changes of runs that flaked passed sooner, taking few back, blaming no innocent', () => {
    const suite = { ...reference, changes: 600, flakeRate: 0.15, culpritRate: 0.03, tests: 200, flakyTests: 10 };
    const early = simulate(suite);
    expect(simulate({ ...suite, earlyPass: 0.8 })).toEqual(early); // the default
    const off = simulate({ ...suite, earlyPass: null });
    expect(off.early_passes).toBeUndefined();
    expect(early.early_passes!.given).toBeGreaterThan(20);
    expect(early.early_passes!.taken_back).toBeLessThan(early.early_passes!.given / 5);
    expect(early.false_blame_rate).toBe(0);
    expect(early.unfinished).toBe(0);
    // the same runs: a change's final verdict comes as late, but it is told sooner
    expect(early.runs).toBe(off.runs);
    expect(early.ttv_p90).toBe(off.ttv_p90);
    expect(early.told_mean).toBeLessThan(off.told_mean);
    expect(off.told_p90).toBe(off.ttv_p90);
  });

  it('with --priority-share, marks changes priority on its own random stream and reports their p90 apart', () => {
    const base = { ...reference, changes: 400 };
    const plain = simulate(base);
    expect(simulate({ ...base, priorityShare: 0 })).toEqual(plain);
    const m = simulate({ ...base, priorityShare: 0.1, verdicts: true });
    expect(m.changes).toBe(plain.changes);
    expect(m.verdicts!.filter((v) => v.priority).length).toBeGreaterThan(20);
    expect(m.p90_priority).toBeLessThan(m.p90_others!);
    expect(m.false_blame_rate).toBe(0);
    expect(m.unfinished).toBe(0);
  });

  it('runs take exactly T unless a duration spread is asked for, which leaves arrivals and flakes alone', () => {
    expect(simulate({ ...reference, durationSpread: 0 })).toEqual(simulate(reference));
    const uneven = simulate({ ...reference, durationSpread: 0.5 });
    expect(uneven).toEqual(simulate({ ...reference, durationSpread: 0.5 }));
    expect(uneven).not.toEqual(simulate(reference));
    expect(uneven.changes).toBe(simulate(reference).changes);
    expect(uneven.unfinished).toBe(0);
    expect(uneven.false_blame_rate).toBe(0);
  });

  it('reports every metric of the simulator reference (README), with every change finished', () => {
    const m = simulate(reference);
    for (const key of [
      'runs_per_change',
      'ttv_mean',
      'ttv_p90',
      'told_mean',
      'told_p90',
      'false_blame_rate',
      'culprits_found',
      'missed_culprits',
      'masked_culprits',
      'changes',
      'runs',
      'unfinished',
    ]) {
      expect(m).toHaveProperty(key);
    }
    expect(m.unfinished).toBe(0);
    expect(m.changes).toBeGreaterThanOrEqual(120);
    expect(m.runs_per_change).toBeCloseTo(m.runs / m.changes, 2);
  });

  it('blames nobody innocent and misses no detectable culprit when nothing flakes', () => {
    for (const strategy of ['bisect', 'bayes']) {
      const m = simulate({ ...reference, flakeRate: 0, strategy, changes: 200 });
      expect(m.false_blame_rate).toBe(0);
      expect(m.missed_culprits).toBe(0);
      expect(m.culprits_found).toBeGreaterThan(0);
    }
  });

  it('blames the known culprit of a hand-made trace and lists every verdict', () => {
    const trace = parseTrace(
      JSON.stringify([
        { id: 'a', at: 0 },
        { id: 'b', at: 0.1, culprit: true },
        { id: 'c', at: 0.2 },
        { id: 'revert-b', at: 5, fixes: 'b' },
        { id: 'd', at: 6 },
      ]),
    );
    const m = simulate({ ...reference, flakeRate: 0, trace, verdicts: true });
    const byId = Object.fromEntries(m.verdicts!.map((v) => [v.id, v]));
    expect(byId['b']!.verdict).toBe('culprit');
    expect(byId['c']).toMatchObject({ verdict: 'blocked', culprit: 'b' });
    expect(byId['revert-b']).toMatchObject({ verdict: 'fixed', culprit: 'b' });
    expect(byId['a']!.verdict).toBe('passed');
    expect(byId['d']!.verdict).toBe('passed');
    expect(m.changes).toBe(5);
  });
});

describe('trace files', () => {
  it('explains what is wrong with a bad trace', () => {
    expect(() => parseTrace('{')).toThrow(/not valid JSON/);
    expect(() => parseTrace('[]')).toThrow(/at least one change/);
    expect(() => parseTrace('[{"id":"a"}]')).toThrow(/at 0\.at/);
    expect(() => parseTrace('[{"id":"a","at":0,"extra":1}]')).toThrow(/extra/);
    expect(() => parseTrace('[{"id":"a","at":0},{"id":"a","at":1}]')).toThrow(/appears twice/);
    expect(() => parseTrace('[{"id":"a","at":2},{"id":"b","at":1}]')).toThrow(/merge order/);
    expect(() => parseTrace('[{"id":"a","at":0},{"id":"f","at":1,"fixes":"a"}]')).toThrow(/not marked culprit/);
  });
});

describe('ost-gate simulate', () => {
  const run = runCli;

  it('prints the metrics as JSON', async () => {
    const r = await run('simulate', '--changes', '50', '--seed', '3', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ changes: expect.any(Number), unfinished: 0 });
  });

  it('reads a trace file and adds verdicts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-sim-'));
    const file = join(dir, 't.json');
    await writeFile(
      file,
      JSON.stringify([
        { id: 'x', at: 0, culprit: true },
        { id: 'y', at: 1 },
      ]),
    );
    const r = await run('simulate', '--trace', file, '--flake-rate', '0', '--verdicts', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).verdicts[0]).toMatchObject({ id: 'x', verdict: 'culprit' });
  });

  it('uses the queue defaults unless told otherwise, and --use-idle-runners spends spare runners on speed', async () => {
    const args = ['simulate', '--changes', '300', '--seed', '2', '--json'];
    const plain = JSON.parse((await run(...args)).out);
    const idle = JSON.parse((await run(...args, '--use-idle-runners')).out);
    expect(plain).toEqual(simulate({ ...reference, changes: 300, seed: 2, culpritRate: 0.03, batch: 20 }));
    expect(idle).toEqual(
      simulate({ ...reference, changes: 300, seed: 2, culpritRate: 0.03, batch: 20, batching: 'use-idle-runners' }),
    );
    expect(idle.runs_per_change).toBeGreaterThan(plain.runs_per_change);
    expect(idle.ttv_p90).toBeLessThan(plain.ttv_p90);
    const spelled = JSON.parse((await run(...args, '--batch-in-flight', '0', '--speculate', '--hold', '0')).out);
    expect(spelled).toEqual(idle);
    expect(JSON.parse((await run(...args, '--batching', 'use-idle-runners')).out)).toEqual(idle);
    expect(await run(...args, '--batching', 'save-runs', '--use-idle-runners')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--use-idle-runners is --batching use-idle-runners, not save-runs'),
    });
    expect(await run(...args, '--batching', 'eager')).toMatchObject({
      code: 2,
      err: expect.stringContaining('batching'),
    });
    expect(() => simulate({ ...reference, batching: 'eager' })).toThrow(/batching: got eager/);
  }, 120_000); // a hang guard: about 2 s on a quiet machine

  it('rejects bad options with exit code 2 and says which', async () => {
    expect(await run('simulate', '--runners', '0')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--runners'),
    });
    expect(await run('simulate', '--strategy', 'magic')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--strategy'),
    });
    expect(await run('simulate', '--duration-spread', '2')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--duration-spread'),
    });
    expect(await run('simulate', '--hold', '5')).toMatchObject({ code: 2, err: expect.stringContaining('--hold') });
    expect(await run('simulate', '--tests', '200', '--quarantine', 'maybe')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--quarantine: expected a flake rate from 0 to 1, or off'),
    });
    expect(await run('simulate', '--tests', '200', '--early-pass', '0.2')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--early-pass: expected a chance from 0.5 to 0.999999, or off'),
    });
    expect(await run('simulate', '--trace', '/nonexistent/t.json')).toMatchObject({
      code: 2,
      err: expect.stringContaining('ENOENT'),
    });
    expect(await run('frobnicate')).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown command 'frobnicate'"),
    });
  });
});

describe('information-theoretic floor', () => {
  it('is the entropy of p when tests never flake, and grows with flakes', () => {
    expect(zCapacity(0)).toBe(1);
    expect(runsFloor(0.5, 0)).toBeCloseTo(1, 10);
    expect(runsFloor(0.03, 0.05)).toBeGreaterThan(runsFloor(0.03, 0));
    expect(runsFloor(0.03, 0.05)).toBeCloseTo(0.2268, 3);
  });
});

describe('forward fixes (--forward-fix-share)', () => {
  const world = { changes: 600, arrivalRate: 1.5, culpritRate: 0.05, flakeRate: 0.05, runners: 4, seed: 3 };
  const run = (forwardFixShare: number) =>
    simulate({ ...world, strategy: 'bisect', batch: 8, forwardFixShare, verdicts: true });

  it('turns that share of fixes into changes that are not reverts, on the same stream of changes', () => {
    const none = run(0);
    const all = run(1);
    expect(none.forward_fixes).toBeUndefined();
    const fixes = all.verdicts!.filter((v) => v.id.startsWith('fix-'));
    expect(fixes.length).toBeGreaterThan(0);
    expect(all.forward_fixes!.merged).toBe(fixes.length);
    // the changes that are not fixes arrive the same way whatever the share
    const ids = (m: typeof all) => m.verdicts!.filter((v) => !v.id.startsWith('fix-')).map((v) => v.id);
    expect(ids(all)).toEqual(ids(none));
  }, 120_000); // a hang guard: about 2 s on a quiet machine
});

describe('forward-fix figures', () => {
  const truth = (culprits: string[], order: string[], seen: Record<string, [string, number]>) => ({
    order,
    mergedAt: new Map(order.map((id, i) => [id, i])),
    culprits: new Set(culprits),
    fixOf: new Map([['bad', 'fwd']]),
    forwardFixes: new Set(['fwd']),
    priority: new Set<string>(),
    verdicts: new Map(Object.entries(seen).map(([id, [verdict, at]]) => [id, { verdict, at }])),
  });

  it('times a stream fixed forward from the fix to the first pass after it, while it stays whole', () => {
    // bad at 0, fwd at 1, x at 2; fwd is named fixed at 6: five T after its merge
    const m = computeMetrics(truth(['bad'], ['bad', 'fwd', 'x'], { fwd: ['fixed', 6], x: ['passed', 6] }), 3, false);
    expect(m.forward_fixes).toMatchObject({ merged: 1, fixed: 1, longest_repaired: 5, longest_while_whole: 5 });
  });

  it('leaves out of "while whole" a repair that a culprit merged after the fix kept waiting', () => {
    // new-bad, merged at 2 after the fix, breaks the stream again: its repair waits for new-bad's fix
    const m = computeMetrics(
      truth(['bad', 'new-bad'], ['bad', 'fwd', 'new-bad', 'y'], { fwd: ['blocked', 3], y: ['passed', 20] }),
      4,
      false,
    );
    expect(m.forward_fixes).toMatchObject({ longest_repaired: 19, longest_while_whole: 0 });
  });
});
