// Culprits per failing test: the core searching each failure signature on its own, with each
// test's own flake rate, and quarantining the flaky ones.
import { describe, expect, it } from 'vitest';
import { MAX_RUN_FAILURES, flakeRatesOf, noteBrokenTests } from '../../src/core/test-book.ts';
import { estimatedRates } from '../../src/core/lines.ts';
import { posterior } from '../../src/core/strategies/posterior.ts';
import { streakPosterior } from '../../src/core/quarantine-streak.ts';
import type { Run, StreamState } from '../../src/core/types.ts';
import { Harness } from '../helpers/harness.ts';

const ids = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

/** Runs rounds until nothing is in flight (bounded), with the CI `failing`. */
function settle(h: Harness, failing: Parameters<Harness['testRound']>[0], rounds = 20): number {
  let n = 0;
  for (; n < rounds; n++) {
    h.wakeHeld();
    if (h.inFlight().length === 0) break;
    h.testRound(failing);
  }
  expect(h.inFlight()).toEqual([]);
  return n;
}

/** A queue with a history of `runs` clean batches, so that tests have a record to be judged on. */
function withHistory(runs: number, settings = {}): Harness {
  const h = new Harness({ maxParallel: 4, ...settings });
  for (let i = 0; i < runs; i++) {
    h.merge([`h${i}`]);
    settle(h, () => []);
  }
  return h;
}

describe('culprits per failing test', () => {
  it('names two culprits in one batch that break different tests, each with its test, in one search', () => {
    const h = withHistory(30);
    h.merge(ids(8));
    const ci = h.breaksTests({ c3: ['suite/alpha'], c6: ['suite/beta'] });
    settle(h, ci);
    expect(h.verdicts().get('c3')).toMatchObject({ verdict: 'culprit', tests: ['suite/alpha'] });
    expect(h.verdicts().get('c6')).toMatchObject({ verdict: 'culprit', tests: ['suite/beta'] });
    for (const id of ['c1', 'c2']) expect(h.verdictOf(id)).toBe('passed');
    for (const id of ['c4', 'c5', 'c7', 'c8'])
      expect(h.verdicts().get(id)).toMatchObject({ verdict: 'blocked', culprit: 'c3' });
    // the first culprit's verdict does not list the second among the changes it blocked
    expect(h.verdicts().get('c3')!.blocked).toEqual(['c4', 'c5', 'c7', 'c8']);
  });

  it('with one bit per run, the second culprit of the batch is only blocked by the first', () => {
    const h = new Harness({ maxParallel: 4 });
    for (let i = 0; i < 30; i++) {
      h.merge([`h${i}`]);
      h.round(() => false);
    }
    h.merge(ids(8));
    for (let i = 0; i < 20 && h.inFlight().length > 0; i++) h.round(h.brokenBy({ c3: null, c6: null }));
    expect(h.verdictOf('c3')).toBe('culprit');
    expect(h.verdicts().get('c6')).toMatchObject({ verdict: 'blocked', culprit: 'c3' });
  });

  it('counts a failure of a test that a run above did not fail as that test’s flake, and passes the changes', () => {
    const h = withHistory(30);
    h.merge(ids(3));
    let first = true;
    settle(h, () => (first ? ((first = false), ['suite/flaky']) : []));
    for (const id of ids(3)) expect(h.verdictOf(id)).toBe('passed');
    expect(h.state.testBook!.tests['suite/flaky']).toMatchObject({ failures: 1, flakes: 1 });
    expect(h.state.stats.flakes).toBe(1);
    expect(h.reports().filter((v) => v.verdict === 'culprit')).toEqual([]);
  });

  it('keeps one bit per run for a failure that names no failing test', () => {
    const h = withHistory(5);
    h.merge(['a']);
    h.wakeHeld();
    const [run] = h.inFlight();
    h.now += 3_600_000;
    h.send({ type: 'run-finished', at: h.now, key: run!.key, status: 'failure', tests: { failed: [], passed: 0 } });
    expect(h.state.runs[run!.key]!.tests).toBeUndefined();
    expect(h.state.runs[run!.key]!.state).toBe('failed');
  });

  it('needs fewer runs to blame a break of a test that never flaked than of a notorious one', () => {
    const runsToBlame = (test: string) => {
      const h = withHistory(40);
      // a history where suite/notorious flaked in 8 of 40 runs
      for (let i = 0; i < 8; i++) {
        h.merge([`f${i}`]);
        let once = true;
        settle(h, () => (once ? ((once = false), ['suite/notorious']) : []));
      }
      h.merge(['bad']);
      const before = h.dispatched().length;
      settle(h, h.breaksTests({ bad: [test] }));
      expect(h.verdicts().get('bad')).toMatchObject({ verdict: 'culprit', tests: [test] });
      return h.dispatched().length - before;
    };
    const steady = runsToBlame('suite/steady');
    const notorious = runsToBlame('suite/notorious');
    expect(notorious).toBeGreaterThan(steady);
  });

  it('rates a test that never flaked far below the queue and the flaky one, but lets a failing one be flaky', () => {
    const h = withHistory(40);
    for (let i = 0; i < 6; i++) {
      h.merge([`f${i}`]);
      let once = true;
      settle(h, () => (once ? ((once = false), ['suite/notorious']) : []));
    }
    const queueRate = estimatedRates(h.state).flakeRate;
    const steady = flakeRatesOf(h.state)('suite/steady');
    const notorious = flakeRatesOf(h.state)('suite/notorious');
    expect(steady.first).toBeLessThan(queueRate / 10);
    expect(steady.later).toBeGreaterThan(steady.first);
    expect(notorious.first).toBeGreaterThan(steady.later);
    expect(notorious.first).toBeGreaterThan(10 * steady.first);
    expect(notorious.later).toBe(notorious.first);
  });
});

/**
 * A CI reporting tests: each culprit breaks its tests in every run that holds it and not its revert
 * (`revert-<culprit>`); `flakes(run)` adds the tests that flake in a run.
 */
function breaksUntilReverted(
  h: Harness,
  culprits: Record<string, string[]>,
  flakes: (run: Run) => string[] = () => [],
) {
  return (run: Run) => {
    const ids = h.contents(run);
    const broken = Object.entries(culprits).flatMap(([c, tests]) =>
      ids.has(c) && !ids.has(`revert-${c}`) ? tests : [],
    );
    return [...new Set([...broken, ...flakes(run)])].sort();
  };
}

describe('two culprits of one stream', () => {
  it('tests the revert of the second culprit instead of blocking it, and the stream is fixed once both are undone', () => {
    const h = withHistory(30);
    h.merge(['c1', 'a', 'b', 'c4']);
    const ci = breaksUntilReverted(h, { a: ['suite/alpha'], b: ['suite/beta'] });
    settle(h, ci);
    expect(h.verdictOf('a')).toBe('culprit');
    expect(h.verdictOf('b')).toBe('culprit');
    // the revert of a fails on b's test: it is blocked, and so would be everything after it
    h.merge(['revert-a'], undefined, { 'revert-a': { reverts: ['a'] } });
    settle(h, ci);
    expect(h.verdicts().get('revert-a')).toMatchObject({ verdict: 'blocked', culprit: 'a' });
    // the revert of b undoes the rest of the break: it is tested, not blocked at once
    h.merge(['revert-b'], undefined, { 'revert-b': { reverts: ['b'] } });
    settle(h, ci);
    const told = h.reports().filter((v) => v.change === 'revert-b');
    expect(told).toEqual([expect.objectContaining({ verdict: 'fixed', culprit: 'a' })]);
    h.merge(['after']);
    settle(h, ci);
    expect(h.verdictOf('after')).toBe('passed');
  });
});

describe('flakes seen while a stream is broken', () => {
  it('counts a test that failed beside the culprit’s in a fix-line run as flaky once the revert passes', () => {
    const h = withHistory(30);
    h.merge(['c1', 'bad', 'c3']);
    settle(h, h.breaksTests({ bad: ['suite/alpha'] }));
    expect(h.verdicts().get('bad')).toMatchObject({ verdict: 'culprit', tests: ['suite/alpha'] });
    expect(h.state.streams[Object.keys(h.state.streams)[0]!]!.broken?.tests).toEqual(['suite/alpha']);
    h.merge(['revert-bad'], undefined, { 'revert-bad': { reverts: ['bad'] } });
    // the revert's first run flakes in suite/flaky, a test that never failed before
    let first = true;
    settle(
      h,
      breaksUntilReverted(h, { bad: ['suite/alpha'] }, (run) =>
        run.line !== 'main' && first ? ((first = false), ['suite/flaky']) : [],
      ),
    );
    expect(h.verdictOf('revert-bad')).toBe('fixed');
    expect(h.state.testBook!.tests['suite/flaky']).toMatchObject({ failures: 1, flakes: 1 });
    // the culprit's own test is no flake: the revert undid it
    expect(h.state.testBook!.tests['suite/alpha']!.flakes).toBe(0);
  });

  it('does not count as flaky the test of a change merged during the break and reverted before the pass', () => {
    const h = withHistory(30);
    h.merge(['c1', 'bad', 'c3']);
    const ci = breaksUntilReverted(h, { bad: ['suite/alpha'], late: ['suite/beta'] });
    settle(h, ci);
    expect(h.verdictOf('bad')).toBe('culprit');
    // merged while the stream is broken: blocked at once, never blamed, and it breaks suite/beta
    h.merge(['late']);
    h.merge(['revert-bad'], undefined, { 'revert-bad': { reverts: ['bad'] } });
    settle(h, ci);
    expect(h.verdicts().get('revert-bad')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
    h.merge(['revert-late'], undefined, { 'revert-late': { reverts: ['late'] } });
    settle(h, ci);
    expect(h.verdictOf('revert-late')).toBe('fixed');
    // the revert's runs failed in suite/beta, and the pass has no such failure: but a revert of
    // another change came between them, so that is no evidence of a flake
    expect(h.state.testBook!.tests['suite/beta']!.failures).toBeGreaterThan(0);
    expect(h.state.testBook!.tests['suite/beta']!.flakes).toBe(0);
  });

  it('learns nothing from a break whose culprits broke more tests than it keeps', () => {
    const stream = { broken: { culprit: 'bad' } } as unknown as StreamState;
    noteBrokenTests(stream, ['suite/a', 'suite/b']);
    expect(stream.broken!.tests).toEqual(['suite/a', 'suite/b']);
    const many = Array.from({ length: 2 * MAX_RUN_FAILURES }, (_, i) => `suite/t${i}`);
    noteBrokenTests(stream, many);
    // kept, some of them would be missing, and their failures taken for flakes
    expect(stream.broken!.tests).toBeNull();
    noteBrokenTests(stream, ['suite/c']);
    expect(stream.broken!.tests).toBeNull();
  });
});

describe('quarantine', () => {
  /** A queue where suite/flaky flaked in 12 of 16 batches. */
  function flakyHistory(settings = {}): Harness {
    const h = withHistory(4, settings);
    for (let i = 0; i < 16; i++) {
      h.merge([`f${i}`]);
      let once = true;
      settle(h, () => (once && i % 4 !== 3 ? ((once = false), ['suite/flaky']) : []));
    }
    return h;
  }

  it('quarantines a test whose flake rate passes flaky.quarantine, and its failure then blames nobody', () => {
    const h = flakyHistory();
    expect(h.state.testBook!.tests['suite/flaky']!.quarantinedSince).toBeTypeOf('number');
    expect(h.ofType('notice').find((n) => n.code === 'test-quarantined')?.message).toMatch(
      /test suite\/flaky is quarantined: it flaked in \d+ runs/,
    );
    h.merge(['x', 'y']);
    const runs = settle(h, () => ['suite/flaky']);
    expect(runs).toBe(1);
    expect(h.verdictOf('x')).toBe('passed');
    expect(h.verdictOf('y')).toBe('passed');
    const last = Object.values(h.state.runs).at(-1)!;
    expect(last).toMatchObject({ state: 'passed', quarantined: ['suite/flaky'] });
  });

  it('never quarantines with flaky.quarantine null', () => {
    const h = flakyHistory({ quarantine: null });
    expect(h.state.testBook!.tests['suite/flaky']!.quarantinedSince).toBeUndefined();
  });

  /** The culprit verdicts given, in order. */
  const blamed = (h: Harness) =>
    h
      .reports()
      .filter((v) => v.verdict === 'culprit')
      .map((v) => v.change);

  /** The quarantine checks run so far (kept ones), by the change they ran up to and how they ended. */
  const checks = (h: Harness) =>
    Object.values(h.state.runs)
      .filter((r) => r.kind === 'quarantine-check')
      .map((r) => `${r.end}:${r.state}`);

  it('names the suspects of a quarantined test that keeps failing, then checks their own commits until one is singled out', () => {
    const h = flakyHistory();
    h.merge(['breaker']);
    settle(h, h.breaksTests({ breaker: ['suite/flaky'] }));
    expect(h.verdictOf('breaker')).toBe('passed'); // quarantined: it did not stop the line
    for (let i = 0; i < 12 && h.verdictOf('breaker') !== 'culprit'; i++) {
      h.merge([`later${i}`]);
      settle(h, h.breaksTests({ breaker: ['suite/flaky'] }));
    }
    // the test flakes in most runs: the breaker's own run failing said little, and every later
    // main-line run held it with a later change; a notice named the suspects, the likeliest first
    const warned = h.ofType('notice').filter((n) => n.code === 'quarantined-test-broken');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(/quarantined test suite\/flaky failed in all \d+ runs since breaker merged/);
    expect(warned[0]!.message).toMatch(/by one of breaker \(\d+%\), later0 /);
    // then runs of the commits up to the breaker alone, on idle runners, failed it often enough
    expect(checks(h).length).toBeGreaterThan(1);
    expect(new Set(checks(h))).toEqual(new Set(['breaker:failed']));
    expect(h.verdicts().get('breaker')).toMatchObject({ verdict: 'culprit', tests: ['suite/flaky'] });
    expect(h.verdicts().get('breaker')!.confidence).toBeGreaterThanOrEqual(h.state.settings.confidence);
    expect(h.verdicts().get('breaker')!.reason).toMatch(
      /quarantined test suite\/flaky failed in every run that held breaker since breaker merged \(\d+ runs\)/,
    );
    // its passed verdict is taken back: one verdict stands, and nobody else was blamed
    expect(h.standingVerdicts().get('breaker')).toBe(1);
    expect(blamed(h)).toEqual(['breaker']);
    // named: no more checks; a fix ends the streak, and its failures, a break's, are no flakes
    const sent = checks(h).length;
    const flakes = h.state.testBook!.tests['suite/flaky']!.flakes;
    h.merge(['fix']);
    settle(h, () => []);
    expect(checks(h).length).toBe(sent);
    expect(h.state.testBook!.tests['suite/flaky']!.streak).toBeUndefined();
    expect(h.state.testBook!.tests['suite/flaky']!.flakes).toBe(flakes);
  });

  it("never blames the change alone in a quarantined test's first failing run when a later change broke it", () => {
    const h = flakyHistory();
    h.merge(['lone']);
    let once = true;
    settle(h, () => (once ? ((once = false), ['suite/flaky']) : [])); // a flake
    h.merge(['breaker']);
    settle(h, h.breaksTests({ breaker: ['suite/flaky'] }));
    for (let i = 0; i < 12 && h.verdictOf('breaker') !== 'culprit'; i++) {
      h.merge([`later${i}`]);
      settle(h, h.breaksTests({ breaker: ['suite/flaky'] }));
    }
    // a check of the commits up to the lone change passed: it was cleared, and the breaker named
    expect(checks(h)).toContain('lone:passed');
    expect(blamed(h)).toEqual(['breaker']);
    expect(h.verdictOf('lone')).toBe('passed');
  });

  /** The quarantine check in flight, if any. */
  const checking = (h: Harness) => h.inFlight().find((r) => r.kind === 'quarantine-check');

  /**
   * Merges "breaker", which breaks suite/flaky, then a change a round, until a quarantine check is in
   * flight (left unanswered); returns a reader of the check in flight.
   */
  function untilChecking(h: Harness): () => Run | undefined {
    const ci = h.breaksTests({ breaker: ['suite/flaky'] });
    h.merge(['breaker']);
    for (let i = 0; i < 12 && !checking(h); i++) {
      h.merge([`later${i}`]);
      h.wakeHeld();
      for (let round = 0; round < 20 && h.inFlight().length > 0 && !checking(h); round++) h.testRound(ci);
    }
    return () => checking(h);
  }

  it('stops checking a streak after three checks in a row end without a result', () => {
    const h = flakyHistory();
    const checking = untilChecking(h);
    let errors = 0;
    for (let check = checking(); check && errors < 10; check = checking()) {
      h.finish(check.key, 'error');
      errors += 1;
    }
    expect(errors).toBe(3);
    const streak = h.state.testBook!.tests['suite/flaky']!.streak!;
    expect(streak).toMatchObject({ noticed: true, checksWithoutResult: 3 });
    expect(streak.named).toBeUndefined();
    expect(h.ofType('log').map((l) => l.message)).toContainEqual(
      expect.stringMatching(/ended error: it says nothing; 3 in a row, so the checks stop/),
    );
  });

  it('takes a passing check for a pass of its own commits only, even past the memory of shas', () => {
    const h = flakyHistory();
    const checking = untilChecking(h);
    const check = checking()!;
    const idsOf = () =>
      (h.state.testBook!.tests['suite/flaky']!.streak?.suspects ?? []).map((s) => (typeof s === 'string' ? s : s.id));
    const after = idsOf().slice(idsOf().indexOf(check.end) + 1);
    expect(after.length).toBeGreaterThan(0);
    // the stream no longer remembers the shas: which runs hold which change is read from verdicts
    for (const stream of Object.values(h.state.streams)) stream.shas = [];
    h.finish(check.key, 'success');
    // the changes after the checked one passed before the check was made, but it ran none of them
    expect(idsOf()).not.toContain(check.end);
    expect(idsOf()).toEqual(expect.arrayContaining(after));
  });

  it('ends a streak once a passing run held every suspect, its failures then counted as flakes', () => {
    const h = flakyHistory();
    h.merge(['a']);
    let once = true;
    settle(h, () => (once ? ((once = false), ['suite/flaky']) : []));
    // flakyHistory's last batch passed, so the flake began a streak; the next run passes over it
    expect(h.state.testBook!.tests['suite/flaky']!.streak).toMatchObject({ suspects: [{ id: 'a', runs: 1 }] });
    const flakes = h.state.testBook!.tests['suite/flaky']!.flakes;
    h.merge(['b']);
    settle(h, () => []);
    expect(h.state.testBook!.tests['suite/flaky']!.streak).toBeUndefined();
    // its failure was a flake, and counts toward the test's rate (which would fall otherwise)
    expect(h.state.testBook!.tests['suite/flaky']!.flakes).toBe(flakes + 1);
  });

  it('reads a streak recorded before suspects were counted as one whose changes were in every run', () => {
    const h = flakyHistory();
    h.merge(['a']);
    let once = true;
    settle(h, () => (once ? ((once = false), ['suite/flaky']) : []));
    const rec = h.state.testBook!.tests['suite/flaky']!;
    rec.streak = { runs: 1, since: 'a', suspects: ['a'] };
    h.merge(['b']);
    settle(h, () => ['suite/flaky']);
    expect(h.state.testBook!.tests['suite/flaky']!.streak!.suspects).toMatchObject([
      { id: 'a', runs: 2, passedAt: expect.any(Number) },
      { id: 'b', runs: 1, sha: expect.any(String) },
    ]);
  });
});

describe("a quarantined test's streak", () => {
  it('weighs a suspect in every run against one in all but one by the flake rate', () => {
    const post = streakPosterior([12, 11], 12, 0.3, 0.001);
    expect(post.suspects[1]! / post.suspects[0]!).toBeCloseTo(0.3, 6);
    expect(post.none).toBeLessThan(0.001);
    // so a notorious test never singles out the first of changes that ran together
    expect(post.suspects[0]).toBeLessThan(0.8);
  });

  it('singles out a suspect only when the runs that held it alone failed past what the flake rate explains', () => {
    const few = streakPosterior([3, 1], 3, 0.3, 0.001);
    expect(few.none).toBeGreaterThan(0.01);
    const many = streakPosterior([12, 1], 12, 0.3, 0.001);
    expect(many.suspects[0]).toBeGreaterThan(0.999);
    // a steadier test needs fewer runs
    expect(streakPosterior([5, 1], 5, 0.05, 0.001).suspects[0]).toBeGreaterThan(0.999);
  });

  it('finds every failure a flake likelier than any culprit after a single run of a flaky test', () => {
    const one = streakPosterior([1], 1, 0.3, 0.001);
    expect(one.none).toBeGreaterThan(0.99);
    expect(one.none + one.suspects[0]!).toBeCloseTo(1, 9);
  });
});

describe('posterior with a first flake rate', () => {
  it('makes a first failure of a steady test strong evidence, and a second one weaker than the first', () => {
    const one = posterior([1], 0.02, 0.03, 0.0001);
    expect(one.first[0]).toBeGreaterThan(0.99);
    const asBefore = posterior([1], 0.02, 0.03);
    expect(asBefore.first[0]).toBeLessThan(0.7);
    // the default keeps the one-rate model
    expect(posterior([2, 1], 0.05, 0.03, 0.05)).toEqual(posterior([2, 1], 0.05, 0.03));
  });
});
