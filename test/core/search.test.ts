// Scenario tests of batching, bisection, confirmation and flakes in the core.
import { describe, expect, it } from 'vitest';
import { Harness, HOUR } from '../helpers/harness.ts';

const ids = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('batching', () => {
  it('tests all untested changes as one run on the newest prefix, and passes them together', () => {
    const h = new Harness({ maxParallel: 2 });
    h.merge(ids(5));
    const [run] = h.inFlight();
    expect(h.inFlight()).toHaveLength(1);
    expect(run!.changes).toEqual(ids(5));
    expect(run!.refs).toEqual({ app: 'sha-c5' });
    h.round(() => false);
    for (const id of ids(5)) expect(h.verdicts().get(id)).toMatchObject({ verdict: 'passed', run: run!.key });
    expect(h.state.streams['git:app@main']!.good).toBe('sha-c5');
  });

  it('caps a run at batch.max_size and covers the rest with the next free runner', () => {
    const h = new Harness({ maxParallel: 2, batchMaxSize: 20, batchMaxInFlight: 0 });
    h.merge(ids(25));
    const runs = h.inFlight();
    expect(runs.map((r) => r.changes.length)).toEqual([20, 25]);
    expect(runs.map((r) => r.end)).toEqual(['c20', 'c25']);
  });

  it('keeps changes that arrive while runners are busy for the next run', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a']);
    h.merge(['b', 'c']);
    expect(h.inFlight().map((r) => r.end)).toEqual(['a']);
    h.round(() => false);
    expect(h.inFlight().map((r) => r.changes)).toEqual([['b', 'c']]);
  });

  it('limits runs over new changes in flight when batch.max_in_flight is set', () => {
    const h = new Harness({ maxParallel: 4, batchMaxInFlight: 1 });
    h.merge(['a']);
    h.merge(['b']);
    expect(h.inFlight()).toHaveLength(1);
  });

  it('by default, tests one batch at a time, each over the changes that came during the last', () => {
    const h = new Harness({ maxParallel: 4 });
    h.merge(['a']);
    h.merge(['b']);
    h.merge(['c']);
    expect(h.inFlight().map((r) => r.changes)).toEqual([['a']]);
    h.round(() => false);
    expect(h.inFlight().map((r) => r.changes)).toEqual([['b', 'c']]);
  });

  it('with batch.hold, keeps a lone change waiting for a second one, at most that share of the mean run time', () => {
    const h = new Harness({ maxParallel: 4, holdShare: 0.4 });
    h.merge(['first']); // no run time is known yet: nothing waits
    expect(h.inFlight()).toHaveLength(1);
    h.round(() => false);
    expect(h.state.stats.runMs).toBe(HOUR);
    h.merge(['a']);
    expect(h.inFlight()).toHaveLength(0); // a waits for company
    h.now += 0.2 * HOUR;
    h.merge(['b']); // company: both go out in one run at once
    expect(h.inFlight().map((r) => r.changes)).toEqual([['a', 'b']]);
    h.round(() => false);
    h.merge(['alone']);
    h.now += 0.39 * HOUR;
    h.send({ type: 'tick', at: h.now });
    expect(h.inFlight()).toHaveLength(0);
    h.now += 0.01 * HOUR; // 0.4 x the mean run time after it came: it goes out alone
    h.send({ type: 'tick', at: h.now });
    expect(h.inFlight().map((r) => r.changes)).toEqual([['alone']]);
  });

  it('never keeps a change waiting with batch.hold 0, nor two changes', () => {
    const h = new Harness({ maxParallel: 4, holdShare: 0 });
    h.merge(['first']);
    h.round(() => false);
    h.merge(['a']);
    expect(h.inFlight()).toHaveLength(1);
    const two = new Harness({ maxParallel: 4, holdShare: 0.4 });
    two.merge(['first']);
    two.round(() => false);
    two.merge(['a', 'b']);
    expect(two.inFlight().map((r) => r.changes)).toEqual([['a', 'b']]);
  });

  it("keeps the queue's mean run time from dispatch to result, the newest run weighing a tenth", () => {
    const h = new Harness({ maxParallel: 1, holdShare: 0 });
    h.merge(['a']);
    h.round(() => false);
    expect(h.state.stats.runMs).toBe(HOUR);
    h.merge(['b']);
    h.now += 0.5 * HOUR; // this run takes 1.5 hours
    h.round(() => false);
    expect(h.state.stats.runMs).toBeCloseTo(1.05 * HOUR, 0);
    h.merge(['c']);
    h.now += 2 * HOUR; // and this one 2 hours, failing: every result counts
    h.finish(h.inFlight()[0]!.key, 'failure');
    expect(h.state.stats.runMs).toBeCloseTo(1.145 * HOUR, 0);
  });
});

describe('bisection', () => {
  it('halves with one runner and deduces the failing half without re-running it', () => {
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0 });
    h.merge(ids(8));
    const fails = h.brokenBy({ c6: null });
    const ends: string[] = [];
    while (h.inFlight().length > 0) ends.push(...h.round(fails).map((r) => r.end));
    // batch c8 fails; c4 passes; c6 fails; c5 passes -> c6 is first failing; c8 is never re-run
    expect(ends).toEqual(['c8', 'c4', 'c6', 'c5']);
    expect(h.verdictOf('c6')).toBe('culprit');
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) expect(h.verdictOf(id)).toBe('passed');
    for (const id of ['c7', 'c8']) expect(h.verdicts().get(id)).toMatchObject({ verdict: 'blocked', culprit: 'c6' });
  });

  it('searches k-ary with k runners: k probes split the range into k+1 nearly equal parts', () => {
    const h = new Harness({ maxParallel: 3, confirm: 0, confidence: 0 });
    h.merge(ids(12));
    h.round(h.brokenBy({ c10: null }));
    expect(h.inFlight().map((r) => r.end)).toEqual(['c3', 'c6', 'c9']);
    h.round(h.brokenBy({ c10: null }));
    // c9 passed: c10..c12 left, c12 known to fail -> probes at c10 and c11
    expect(
      h
        .inFlight()
        .map((r) => r.end)
        .sort(),
    ).toEqual(['c10', 'c11']);
    h.round(h.brokenBy({ c10: null }));
    expect(h.verdictOf('c10')).toBe('culprit');
  });

  it('confirms a suspect before blaming it, and reports the evidence', () => {
    const h = new Harness({ maxParallel: 2, confirm: 1, confidence: 0 });
    h.merge(ids(3));
    const fails = h.brokenBy({ c2: null });
    h.round(fails); // c3 fails
    h.round(fails); // c1 passes, c2 fails
    expect(h.verdictOf('c2')).toBeUndefined();
    expect(h.inFlight().map((r) => [r.end, r.kind])).toEqual([['c2', 'confirm']]);
    h.round(fails);
    const v = h.verdicts().get('c2')!;
    expect(v.verdict).toBe('culprit');
    expect(v.confidence).toBeGreaterThan(0.5);
    expect(v.blocked).toEqual(['c3']);
    expect(v.evidence!.map((e) => [e.end, e.result])).toEqual(
      expect.arrayContaining([
        ['c1', 'passed'],
        ['c2', 'failed'],
        ['c3', 'failed'],
      ]),
    );
  });

  it('asks for more confirming runs while the posterior is below flaky.confidence', () => {
    const h = new Harness({ maxParallel: 4, confirm: 1, confidence: 0.999 });
    h.merge(['a']);
    h.round(() => true);
    // one failure at a 5% prior flake rate is far from 0.999: several confirmations go out at once
    expect(h.inFlight().length).toBeGreaterThanOrEqual(2);
    expect(h.inFlight().every((r) => r.end === 'a' && r.kind === 'confirm')).toBe(true);
    h.round(() => true);
    expect(h.verdicts().get('a')).toMatchObject({ verdict: 'culprit' });
    expect(h.verdicts().get('a')!.confidence).toBeGreaterThanOrEqual(0.999);
  });

  it('confirms a suspect one run at a time while "it was a flake" is likelier, and not beside a run over it', () => {
    const h = new Harness({ maxParallel: 4, confirm: 1, confidence: 0.999 });
    // a queue with a long, mostly green history: culprits are rare, flakes are not
    Object.assign(h.state.stats, { runsFinished: 400, runsFailed: 20, flakes: 20, culprits: 1, verdicts: 400 });
    h.merge(['a']);
    h.round(() => true);
    expect(h.inFlight().map((r) => [r.end, r.kind])).toEqual([['a', 'confirm']]);
    h.merge(['b']); // a run over b contains a as well
    h.round(() => false); // the confirmation passes: a was a flake
    expect(h.verdictOf('a')).toBe('passed');
    expect(h.ofType('report').some((e) => e.verdict.verdict === 'culprit')).toBe(false);
  });

  it("without speculation, still sends the new changes' batch while a flake is likelier, as the confirmation", () => {
    const h = new Harness({ maxParallel: 4, batchMaxInFlight: 1, speculate: false, confirm: 1, confidence: 0.999 });
    Object.assign(h.state.stats, { runsFinished: 400, runsFailed: 20, flakes: 20, culprits: 1, verdicts: 400 });
    h.merge(['a']);
    h.merge(['b']); // waits: one batch in flight at a time
    h.round(() => true); // a's run fails: a flake is likelier than a culprit
    // one run over a and b, and no confirmation of a beside it: the batch holds a as well
    expect(h.inFlight().map((r) => [r.end, r.kind])).toEqual([['b', 'batch']]);
    h.round(() => false);
    expect(h.verdictOf('a')).toBe('passed');
    expect(h.verdictOf('b')).toBe('passed');
    expect(h.dispatched()).toHaveLength(2);
  });

  it("without speculation, sends the new changes' batch beside the probes when a small failed batch may well have flaked", () => {
    // a new queue's weak prior (1 flake in 20 runs, 1 culprit in 20 changes): "it flaked" is about a
    // third likely after a failed batch of two, below one half but enough for the batch to go
    const h = new Harness({ maxParallel: 4, confirm: 1, confidence: 0.999, holdShare: 0 });
    h.merge(['a', 'b']);
    h.merge(['c']);
    h.round(() => true);
    expect(h.inFlight().map((r) => [r.end, r.kind])).toEqual([
      ['c', 'batch'],
      ['a', 'probe'],
    ]);
    h.round(() => false); // it was a flake: one round clears a, b and c
    expect(['a', 'b', 'c'].map((id) => h.verdictOf(id))).toEqual(['passed', 'passed', 'passed']);
  });

  it('never blames a change whose failure does not repeat: the flake is recorded and everything passes', () => {
    const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0 });
    h.merge(ids(4));
    let first = true;
    const flakyOnce = () => {
      const f = first;
      first = false;
      return f;
    };
    while (h.inFlight().length > 0) h.round(flakyOnce);
    expect([...h.verdicts().values()].map((v) => v.verdict)).toEqual(['passed', 'passed', 'passed', 'passed']);
    expect(h.state.stats.flakes).toBe(1);
    expect(h.ofType('report').some((e) => e.verdict.verdict === 'culprit')).toBe(false);
  });

  it('uses the bayes strategy to probe and blame with the posterior', () => {
    const h = new Harness({ maxParallel: 2, strategy: 'bayes', confidence: 0.99 });
    h.merge(ids(6));
    const fails = h.brokenBy({ c4: null });
    for (let i = 0; i < 20 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('c4')).toBe('culprit');
    expect(h.verdicts().get('c4')!.confidence).toBeGreaterThanOrEqual(0.99);
    for (const id of ['c1', 'c2', 'c3']) expect(h.verdictOf(id)).toBe('passed');
  });
});

describe('broken streams', () => {
  it('tests a revert of the culprit that merged before the verdict instead of blocking it', () => {
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, batchMaxSize: 1, speculate: true });
    h.merge(['bad']);
    h.merge(['x', 'revert', 'y'], undefined, { revert: { reverts: ['bad'] } });
    const fails = h.brokenBy({ bad: 'revert' });
    for (let i = 0; i < 10 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('bad')).toBe('culprit');
    expect(h.verdicts().get('x')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
    expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
    expect(h.verdictOf('y')).toBe('passed');
  });

  describe('with awaitRevert: a broken stream waits for a revert of its culprit', () => {
    it('blocks a change that does not revert the culprit at once, without a run', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      const runs = h.dispatched().length;
      h.merge(['x1', 'x2']);
      expect(h.verdicts().get('x1')).toMatchObject({
        verdict: 'blocked',
        culprit: 'bad',
        reason: expect.stringContaining('does not revert'),
      });
      expect(h.verdictOf('x2')).toBe('blocked');
      expect(h.dispatched()).toHaveLength(runs);
    });

    it('tests a revert of the culprit and the changes after it, and names the revert fixed', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['x1', 'revert', 'x3'], undefined, { revert: { reverts: ['bad'] } });
      expect(h.verdictOf('x1')).toBe('blocked');
      expect(h.state.streams['git:app@main']!.broken!.line).toEqual(['revert', 'x3']);
      const fails = h.brokenBy({ bad: 'revert' });
      for (let i = 0; i < 5 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
      expect(h.verdictOf('x3')).toBe('passed');
      expect(h.state.streams['git:app@main']!.broken).toBeNull();
    });

    it('takes a change naming the culprit by a short sha for its revert', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0 });
      h.merge(['bad'], undefined, { bad: { sha: '0123456789abcdef0123456789abcdef01234567' } });
      h.round(() => true);
      h.merge(['x1', 'revert'], undefined, { revert: { reverts: ['0123456'] } });
      expect(h.verdictOf('x1')).toBe('blocked');
      // tested, not blocked at once as a change that does not revert the culprit
      expect(h.state.streams['git:app@main']!.broken!.line).toEqual(['revert']);
      const fails = h.brokenBy({ bad: 'revert' });
      for (let i = 0; i < 5 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
    });

    it('while a revert that failed may have flaked, runs it alone again and holds the changes after it', () => {
      const h = new Harness({ maxParallel: 2, confirm: 1, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.round(() => true);
      h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
      h.merge(['after']); // waits: the revert's run is the fix line's batch in flight
      expect(h.inFlight().map((r) => r.changes)).toEqual([['revert']]);
      h.round(() => true); // the revert's own run fails: a flake, or a change it does not undo
      expect(h.inFlight().map((r) => [r.end, r.kind])).toEqual([['revert', 'probe']]);
      h.round(() => false);
      expect(h.verdictOf('revert')).toBe('fixed');
      h.round(() => false);
      expect(h.verdictOf('after')).toBe('passed');
    });

    it('re-runs a failing revert before blocking it', () => {
      const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.round(() => true);
      expect(h.verdictOf('bad')).toBe('culprit');
      h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
      h.round(() => true); // a flaky failure of the revert
      expect(h.verdictOf('revert')).toBeUndefined();
      expect(h.inFlight().map((r) => r.end)).toEqual(['revert']);
      h.round(() => false);
      expect(h.verdictOf('revert')).toBe('fixed');
    });

    it('waits for the run of a revert when a later prefix fails first, then blames the later change', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0, batchMaxInFlight: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
      h.merge(['x']);
      const runs = h.inFlight();
      expect(runs.map((r) => r.end)).toEqual(['revert', 'x']);
      h.finish(runs[1]!.key, 'failure'); // x's run comes back first, while the revert's is still running
      expect(h.verdictOf('revert')).toBeUndefined();
      expect(h.inFlight().map((r) => r.key)).toContain(runs[0]!.key);
      const fails = h.brokenBy({ bad: 'revert', x: null });
      for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
      expect(h.verdictOf('x')).toBe('culprit');
    });

    it('blocks a revert that fails again, saying a change masked by the culprit breaks the tests', () => {
      const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.round(() => true);
      h.merge(['masked', 'revert'], undefined, { revert: { reverts: ['bad'] } });
      expect(h.verdictOf('masked')).toBe('blocked');
      for (let i = 0; i < 4 && h.inFlight().length > 0; i++) h.round(() => true);
      expect(h.verdicts().get('revert')).toMatchObject({
        verdict: 'blocked',
        culprit: 'bad',
        reason: expect.stringContaining('masked by bad'),
      });
      expect(h.ofType('notice').find((n) => n.code === 'revert-still-fails')).toMatchObject({
        level: 'warn',
        change: 'revert',
      });
    });

    it('tests the revert alone again after one failure, rather than let a failure above it block what follows', () => {
      const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.round(() => true);
      expect(h.verdictOf('bad')).toBe('culprit');
      h.merge(['revert', 'late-culprit', 'after'], undefined, { revert: { reverts: ['bad'] } });
      // the run over the whole fix line fails (late-culprit), and so does the revert's own run (a flake):
      // one failure of the revert and one above it no longer block the changes after the revert, and
      // while the revert is in doubt only the revert runs again
      for (let i = 0; i < 2; i++) h.round(() => true);
      expect(h.verdictOf('revert')).toBeUndefined();
      expect(h.verdictOf('late-culprit')).toBeUndefined();
      expect(h.inFlight().map((r) => r.end)).toEqual(['revert']);
      const fails = h.brokenBy({ bad: 'revert', 'late-culprit': null });
      for (let i = 0; i < 8 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
      expect(h.verdictOf('late-culprit')).toBe('culprit');
      expect(h.verdicts().get('after')).toMatchObject({ verdict: 'blocked', culprit: 'late-culprit' });
    });

    it('blocks the changes behind a revert that keeps failing at once, and reopens them when the tip passes', () => {
      const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0 });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['revert', 'x'], undefined, { revert: { reverts: ['bad'] } });
      // the revert fails alone as often as a revert must to be blocked (two flaky failures): x has
      // nothing ahead of it that undoes bad, so it is blocked at once, and the tip is checked
      for (let i = 0; i < 6 && h.verdictOf('revert') === undefined; i++) h.round(() => true);
      const fixLine = h.dispatched().filter((r) => r.line !== 'main' && r.kind !== 'check');
      expect(fixLine.map((r) => r.end)).toEqual(['x', 'revert', 'revert']); // the line, then the revert alone
      expect(h.verdictOf('revert')).toBe('blocked');
      expect(h.verdicts().get('x')).toMatchObject({
        verdict: 'blocked',
        reason: expect.stringContaining('still fails'),
      });
      expect(h.inFlight()).toMatchObject([{ kind: 'check', refs: { app: 'sha-x' } }]);
      h.merge(['late-culprit']);
      expect(h.verdictOf('late-culprit')).toBe('blocked'); // at once: no revert is left ahead of it
      // the check passes: the stream was whole all along, and late-culprit is tested after all
      h.round(() => false);
      expect(h.verdictOf('x')).toBe('fixed');
      expect(h.state.changes['late-culprit']).toMatchObject({ state: 'queued' });
      const fails = h.brokenBy({ 'late-culprit': null });
      for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdictOf('late-culprit')).toBe('culprit');
    });

    it('reopens changes blocked at once during a tip check that passes, and tests them', () => {
      const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['forward-fix'], undefined, { 'forward-fix': { title: 'Repair what bad broke' } });
      h.now += 2 * HOUR;
      h.send({ type: 'tick', at: h.now });
      const [check] = h.inFlight();
      expect(check).toMatchObject({ kind: 'check' });
      h.merge(['late-culprit', 'after']);
      expect(h.verdictOf('late-culprit')).toBe('blocked'); // on the belief that bad is still in
      h.finish(check!.key, 'success');
      expect(h.state.changes['late-culprit']).toMatchObject({ state: 'queued' });
      expect(h.state.verdicts.find((v) => v.change === 'late-culprit')).toMatchObject({
        verdict: 'blocked',
        retracted: true,
      });
      // the one change blocked since the culprit is what fixed it
      expect(h.verdicts().get('forward-fix')).toMatchObject({ verdict: 'fixed', culprit: 'bad', run: check!.key });
      const fails = h.brokenBy({ 'late-culprit': null });
      for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdictOf('late-culprit')).toBe('culprit');
      expect(h.verdicts().get('after')).toMatchObject({ verdict: 'blocked', culprit: 'late-culprit' });
    });

    it('stops checking a tip that failed its checks until a new change moves it', () => {
      const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      for (let i = 0; i < 3 && !h.verdictOf('bad'); i++) h.round(() => true);
      h.merge(['x'], undefined, { x: { title: 'fix for bad' } });
      const checks = () => h.dispatched().filter((r) => r.kind === 'check').length;
      // the first check at once (x names bad), the second after the backstop (12 h)
      for (let i = 0; i < 10; i++) {
        h.now += 2 * HOUR;
        h.send({ type: 'tick', at: h.now });
        h.round(() => true);
      }
      expect(checks()).toBe(2);
      h.merge(['y'], undefined, { y: { title: 'really fix bad' } });
      h.now += 2 * HOUR;
      h.send({ type: 'tick', at: h.now });
      expect(h.inFlight()).toMatchObject([{ kind: 'check', refs: { app: 'sha-y' } }]);
    });

    it('checks the tip once a blocked change names the culprit, and un-breaks a stream fixed without a revert', () => {
      const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['forward-fix'], undefined, { 'forward-fix': { title: 'Fix the regression from sha-bad' } });
      expect(h.verdictOf('forward-fix')).toBe('blocked');
      h.now += 2 * HOUR;
      h.send({ type: 'tick', at: h.now });
      const [check] = h.inFlight();
      expect(check).toMatchObject({ kind: 'check', refs: { app: 'sha-forward-fix' } });
      h.round(() => false);
      expect(h.state.streams['git:app@main']!.broken).toBeNull();
      expect(h.ofType('notice').find((n) => n.code === 'stream-fixed')!.message).toMatch(/does not revert bad/);
      h.merge(['next']);
      h.round(() => false);
      expect(h.verdictOf('next')).toBe('passed');
    });
    it('keeps a fix-line run in flight when a tip check un-breaks the stream: it goes on in the main line', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['forward-fix'], undefined, { 'forward-fix': { title: 'Fix the regression from sha-bad' } });
      h.now += 2 * HOUR;
      h.send({ type: 'tick', at: h.now });
      h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
      const [check, revertRun] = h.inFlight();
      expect([check!.kind, revertRun!.line, revertRun!.end]).toEqual(['check', 'git:app@main', 'revert']);
      const sent = h.dispatched().length;
      h.finish(check!.key, 'success');
      expect(h.state.streams['git:app@main']!.broken).toBeNull();
      expect(h.inFlight()).toMatchObject([{ key: revertRun!.key, line: 'main' }]);
      h.finish(revertRun!.key, 'success');
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'passed', run: revertRun!.key });
      expect(h.dispatched()).toHaveLength(sent);
    });

    it('finds which of several blocked changes fixed the stream forward, and names it fixed', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['b1', 'b2', 'repair', 'b4']); // four changes: a check is due; none names bad
      expect(['b1', 'b2', 'repair', 'b4'].map((id) => h.verdictOf(id))).toEqual(Array(4).fill('blocked'));
      h.now += 2 * HOUR;
      h.send({ type: 'tick', at: h.now });
      const fails = h.brokenBy({ bad: 'repair' });
      for (let i = 0; i < 8 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('repair')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
      expect(h.verdicts().get('b2')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
      expect(h.verdictOf('b4')).toBe('passed');
      expect(h.state.streams['git:app@main']!.broken).toBeNull();
    });

    it('checks the tip only when a fix may have landed: after 4 changes, or once every 6 x recheckMs', () => {
      const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, recheckMs: 2 * HOUR });
      h.merge(['bad']);
      h.round(() => true);
      const checks = () => h.dispatched().filter((r) => r.kind === 'check');
      const tick = (hours: number) => {
        h.now += hours * HOUR;
        h.send({ type: 'tick', at: h.now });
      };
      h.merge(['a1', 'a2', 'a3']); // three changes that say nothing of bad: no check yet
      tick(4);
      expect(checks()).toHaveLength(0);
      h.merge(['a4']); // the fourth: a forward fix may be among them
      tick(0);
      expect(checks().map((r) => r.refs)).toEqual([{ app: 'sha-a4' }]);
      h.round(() => true);
      // a quiet stream: the next check only after the backstop, 6 x recheckMs after the last one
      tick(10);
      expect(checks()).toHaveLength(1);
      tick(2);
      expect(checks()).toHaveLength(2);
    });
  });

  describe('without awaitRevert: every new tip of a broken stream is tested', () => {
    it('blocks later changes, re-tests the tip as changes arrive, and names the first passing change fixed', () => {
      const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, awaitRevert: false });
      h.merge(['c1', 'c2']);
      let fails = h.brokenBy({ c1: null });
      h.round(fails); // c2 fails
      h.round(fails); // c1 fails -> culprit
      expect(h.verdictOf('c1')).toBe('culprit');
      expect(h.verdicts().get('c2')).toMatchObject({ verdict: 'blocked', culprit: 'c1' });
      expect(h.inFlight()).toHaveLength(0);
      h.merge(['c3']);
      expect(h.inFlight().map((r) => r.end)).toEqual(['c3']);
      h.round(fails);
      expect(h.verdicts().get('c3')).toMatchObject({ verdict: 'blocked', culprit: 'c1' });
      h.merge(['revert', 'c5', 'c6']);
      fails = h.brokenBy({ c1: 'revert' });
      for (let i = 0; i < 10 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('revert')).toMatchObject({ verdict: 'fixed', culprit: 'c1' });
      expect(h.verdictOf('c5')).toBe('passed');
      expect(h.verdictOf('c6')).toBe('passed');
      expect(h.state.streams['git:app@main']!.broken).toBeNull();
      expect(h.state.streams['git:app@main']!.good).toBe('sha-c6');
    });

    it('finds the fix among several new changes with a search for the first passing prefix', () => {
      const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0, awaitRevert: false });
      h.merge(['bad']);
      h.round(() => true);
      expect(h.verdictOf('bad')).toBe('culprit');
      h.merge(['x1', 'x2', 'fix', 'x4', 'x5']);
      const fails = h.brokenBy({ bad: 'fix' });
      for (let i = 0; i < 10 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdicts().get('fix')).toMatchObject({ verdict: 'fixed', culprit: 'bad' });
      expect(h.verdicts().get('x1')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
      expect(h.verdicts().get('x2')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
      expect(h.verdictOf('x4')).toBe('passed');
      expect(h.verdictOf('x5')).toBe('passed');
    });

    it('a failing prefix of the fix line waits for a run below it, which may show the fix', () => {
      const h = new Harness({
        maxParallel: 2,
        confirm: 0,
        confidence: 0,
        awaitRevert: false,
        batchMaxSize: 1,
        batchMaxInFlight: 0,
        speculate: false,
      });
      h.merge(['bad']);
      h.round(() => true);
      h.merge(['forward-fix']);
      h.merge(['second-culprit']);
      const [low, high] = h.inFlight();
      expect([low!.end, high!.end]).toEqual(['forward-fix', 'second-culprit']);
      h.finish(high!.key, 'failure');
      expect(h.verdictOf('forward-fix')).toBeUndefined();
      expect(h.state.runs[low!.key]!.state).toBe('dispatched');
      const fails = h.brokenBy({ bad: 'forward-fix', 'second-culprit': null });
      for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
      expect(h.verdictOf('forward-fix')).toBe('fixed');
      expect(h.verdictOf('second-culprit')).toBe('culprit');
    });
  });
});

describe('a change and its revert in one passing run', () => {
  it('gives the change skipped, with the reason, not passed: it was never tested without its revert', () => {
    const h = new Harness({ maxParallel: 1, holdShare: 0 });
    h.merge(['a', 'undo-a', 'b'], undefined, { 'undo-a': { reverts: ['sha-a'] } });
    h.round(() => false);
    expect([h.verdictOf('a'), h.verdictOf('undo-a'), h.verdictOf('b')]).toEqual(['skipped', 'passed', 'passed']);
    expect(h.reports().find((v) => v.change === 'a')!.reason).toBe(
      'reverted by undo-a in the same passing run, so it was never tested without its revert',
    );
  });
});
