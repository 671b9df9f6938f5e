// Try runs: `/ost try` on an open change gets one run over the queue's last passing commits, on a runner
// the queue leaves idle; its result is posted and nothing else in the queue changes.
import { describe, expect, it } from 'vitest';
import { HOUR, streamRef } from '../helpers/harness.ts';
import { ask, passed, tries, tryOf } from '../helpers/tries.ts';

describe('try runs', () => {
  it('runs an open change over the last passing commits, tells the CI its id, and posts its result', () => {
    const h = passed();
    h.merge(['other'], streamRef('lib'));
    h.round(() => false); // lib's good commit is sha-other
    const stats = structuredClone(h.state.stats);
    const effects = ask(h, 7);
    expect(effects.find((e) => e.type === 'reply')).toMatchObject({ ok: true, to: { n: 7 } });
    const dispatch = effects.find((e) => e.type === 'dispatch')!;
    expect(dispatch.run).toMatchObject({
      kind: 'try',
      changes: ['git:app#7'],
      refs: { app: 'try-sha-7', lib: 'sha-other' },
      try: { change: 'git:app#7', by: 'alice' },
    });
    h.now += HOUR;
    const done = h.finish(dispatch.run.key, 'failure');
    const result = done.find((e) => e.type === 'try-result')!;
    expect(result.run).toMatchObject({ key: dispatch.run.key, state: 'failed', try: { change: 'git:app#7' } });
    // nothing else: no verdict, no statistic, no change, no search
    expect(done.filter((e) => e.type !== 'try-result' && e.type !== 'log')).toEqual([]);
    expect(h.state.stats).toEqual(stats);
    expect(h.state.changes['git:app#7']).toBeUndefined();
    expect(h.inFlight()).toEqual([]);
  });

  it('waits while the queue uses every runner, and the queue goes first when one frees', () => {
    const h = passed({ maxParallel: 1 });
    h.merge(['a']);
    ask(h, 1);
    expect(h.inFlight().map((r) => r.kind)).toEqual(['batch']);
    expect(h.state.tries?.map((t) => t.change)).toEqual(['git:app#1']);
    h.merge(['b']);
    h.round(() => false); // a passes; b's batch takes the runner first
    expect(h.inFlight().map((r) => r.kind)).toEqual(['batch']);
    h.round(() => false);
    expect(h.inFlight().map((r) => [r.kind, r.end])).toEqual([['try', 'git:app#1']]);
    expect(h.state.tries).toBeUndefined();
  });

  it('keeps to try.max_parallel, and a paused queue sends none', () => {
    const h = passed({ maxParallel: 4, tryMaxParallel: 2 });
    for (const n of [1, 2, 3]) ask(h, n);
    expect(tries(h).map((r) => r.end)).toEqual(['git:app#1', 'git:app#2']);
    h.send({ type: 'command', at: h.now, verb: 'pause', change: 'first', user: 'op' });
    h.finish(tries(h)[0]!.key, 'success');
    expect(tries(h).map((r) => r.end)).toEqual(['git:app#2']);
    h.send({ type: 'command', at: h.now, verb: 'resume', change: 'first', user: 'op' });
    expect(tries(h).map((r) => r.end)).toEqual(['git:app#2', 'git:app#3']);
  });

  it('replaces an older try of the same change: the older is cancelled, and its result says so', () => {
    const h = passed();
    ask(h, 5, { sha: 'first-patch-set' });
    const older = tries(h)[0]!;
    const effects = ask(h, 5, { sha: 'second-patch-set' });
    expect(effects.find((e) => e.type === 'cancel')).toMatchObject({ key: older.key });
    expect(effects.find((e) => e.type === 'try-result')!.run).toMatchObject({ key: older.key, state: 'cancelled' });
    expect(effects.find((e) => e.type === 'reply')!.message).toMatch(/replaces the earlier try/);
    expect(tries(h).map((r) => r.refs.app)).toEqual(['second-patch-set']);
    // the older run's late result changes nothing
    expect(h.finish(older.key, 'success').filter((e) => e.type === 'try-result')).toEqual([]);
  });

  it('tries again after an error, then posts the error; the queue is not paused and counts no retry', () => {
    const h = passed({ retries: 1 });
    ask(h, 3);
    h.finish(tries(h)[0]!.key, 'error');
    const second = tries(h)[0]!;
    expect(second.attempt).toBe(2);
    const done = h.send({ type: 'run-finished', at: h.now, key: second.key, status: 'error', reason: 'no executor' });
    expect(done.find((e) => e.type === 'try-result')!.run).toMatchObject({ state: 'error', error: 'no executor' });
    expect(h.state.paused).toBeNull();
    expect(h.state.stats.infraRetries).toBe(0);
  });

  it('posts a try that timed out', () => {
    const h = passed();
    ask(h, 4);
    h.now += 4 * HOUR;
    const effects = h.send({ type: 'tick', at: h.now });
    expect(effects.find((e) => e.type === 'try-result')!.run).toMatchObject({ state: 'timed-out' });
    expect(effects.find((e) => e.type === 'cancel')).toBeDefined();
  });

  it('refuses a try where try.max_parallel is 0', () => {
    const h = passed({ tryMaxParallel: 0 });
    const effects = ask(h, 2);
    expect(effects.find((e) => e.type === 'reply')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/try.max_parallel is 0/),
    });
    expect(h.state.tries).toBeUndefined();
  });

  it('refuses a change the queue has: it is merged', () => {
    const h = passed();
    const effects = h.send({ type: 'try', at: h.now, target: { ...tryOf(1), change: 'first' } });
    expect(effects.find((e) => e.type === 'reply')).toMatchObject({ ok: false });
    expect(effects.filter((e) => e.type === 'dispatch')).toEqual([]);
  });

  it('keeps a failing try out of the search and of the test book', () => {
    const h = passed();
    ask(h, 9);
    const key = tries(h)[0]!.key;
    const effects = h.send({
      type: 'run-finished',
      at: h.now,
      key,
      status: 'failure',
      tests: { failed: ['t/b', 't/a'], passed: 10 },
    });
    expect(effects.find((e) => e.type === 'try-result')!.run.tests).toEqual({
      failed: ['t/a', 't/b'],
      failedCount: 2,
      passed: 10,
    });
    expect(h.state.testBook).toBeUndefined();
    h.merge(['next']);
    expect(h.inFlight().map((r) => [r.kind, r.end])).toEqual([['batch', 'next']]);
  });
});
