// Scenario tests of infra errors, time-outs, pausing and stale results.
import { describe, expect, it } from 'vitest';
import { Harness, HOUR } from '../helpers/harness.ts';

describe('infra errors are not failures', () => {
  it('retries an errored run under a new key, then pauses the queue and blames nothing', () => {
    const h = new Harness({ maxParallel: 1, retries: 2 });
    h.merge(['a', 'b']);
    const first = h.inFlight()[0]!;
    h.finish(first.key, 'error');
    const second = h.inFlight()[0]!;
    expect(second.key).not.toBe(first.key);
    expect([second.attempt, second.end, second.refs]).toEqual([2, 'b', first.refs]);
    h.finish(second.key, 'cancelled');
    const third = h.inFlight()[0]!;
    expect(third.attempt).toBe(3);
    h.finish(third.key, 'error');
    expect(h.inFlight()).toHaveLength(0);
    expect(h.state.paused?.reason).toMatch(/ended error after 3 attempt/);
    expect(h.ofType('notice').map((n) => n.code)).toEqual(['infra-retry', 'infra-retry', 'queue-paused']);
    expect(h.reports()).toHaveLength(0);
    expect(h.state.stats.infraRetries).toBe(2);
  });

  it('names the cause of the infra error in the notices and in the pause reason', () => {
    const h = new Harness({ maxParallel: 1, retries: 1 });
    h.merge(['a']);
    const reason = 'CI provider command:nosuch is not configured on this server';
    h.send({ type: 'run-finished', at: 1, key: h.inFlight()[0]!.key, status: 'error', reason });
    h.send({ type: 'run-finished', at: 2, key: h.inFlight()[0]!.key, status: 'error', reason });
    expect(h.ofType('notice').map((n) => n.message)).toEqual([
      expect.stringContaining(`(attempt 1): ${reason}; retrying`),
      expect.stringContaining(`after 2 attempt(s): ${reason}; nothing was blamed`),
    ]);
    expect(h.state.paused?.reason).toContain(reason);
  });

  it('times out a run that never reports, cancels it and retries', () => {
    const h = new Harness({ maxParallel: 1, retries: 1, timeoutMs: 3 * HOUR });
    h.merge(['a']);
    const run = h.inFlight()[0]!;
    h.send({ type: 'tick', at: 3 * HOUR - 1 });
    expect(h.state.runs[run.key]!.state).toBe('dispatched');
    h.send({ type: 'tick', at: 3 * HOUR });
    expect(h.state.runs[run.key]!.state).toBe('timed-out');
    expect(h.ofType('cancel')).toEqual([{ type: 'cancel', key: run.key, reason: 'timed out' }]);
    expect(h.ofType('notice')[0]!.message).toMatch(
      /ended timed-out \(attempt 1\): no result within ci\.timeout \(180 min\)/,
    );
    expect(h.inFlight()[0]!.attempt).toBe(2);
  });

  it('runs a run lost in a server crash again as the same attempt, counting no infra error', () => {
    const h = new Harness({ maxParallel: 1, retries: 0 });
    h.merge(['a', 'b']);
    const first = h.inFlight()[0]!;
    h.finish(first.key, 'lost');
    const again = h.inFlight()[0]!;
    expect(again.key).not.toBe(first.key);
    expect([again.attempt, again.end, again.refs]).toEqual([1, 'b', first.refs]);
    // with no retries left an error would pause the queue: a lost run does not
    expect(h.state.paused).toBeNull();
    expect(h.state.stats.infraRetries).toBe(0);
    expect(h.ofType('notice').map((n) => n.code)).toEqual(['run-lost']);
    h.finish(again.key, 'success');
    expect(h.state.changes.b!.verdict).toBe('passed');
  });

  it('dispatches nothing while paused and picks up again on resume', () => {
    const h = new Harness({ maxParallel: 1, retries: 0 });
    h.merge(['a']);
    h.finish(h.inFlight()[0]!.key, 'error');
    expect(h.state.paused).not.toBeNull();
    h.merge(['b']);
    expect(h.inFlight()).toHaveLength(0);
    h.send({ type: 'command', at: 1, verb: 'resume', change: 'b', user: 'admin' });
    expect(h.state.paused).toBeNull();
    expect(h.inFlight().map((r) => r.changes)).toEqual([['a', 'b']]);
  });
});

describe('stale results are ignored', () => {
  it('changes nothing for an unknown key, and logs it', () => {
    const h = new Harness();
    h.merge(['a']);
    const before = JSON.stringify(h.state);
    const effects = h.finish('nope.1', 'failure');
    expect(JSON.stringify(h.state)).toBe(before);
    expect(effects).toEqual([{ type: 'log', level: 'info', message: expect.stringContaining('unknown key') }]);
  });

  it('cancels a run superseded by a passing prefix above it, and ignores its late result', () => {
    const h = new Harness({ maxParallel: 2, batchMaxSize: 2, batchMaxInFlight: 0 });
    h.merge(['a', 'b', 'c', 'd']);
    const [low, high] = h.inFlight();
    expect([low!.end, high!.end]).toEqual(['b', 'd']);
    h.finish(high!.key, 'success');
    expect(h.state.runs[low!.key]).toMatchObject({ state: 'cancelled', superseded: true });
    expect(h.ofType('cancel').map((c) => c.key)).toEqual([low!.key]);
    const snapshot = JSON.stringify(h.state);
    const effects = h.finish(low!.key, 'failure');
    expect(JSON.stringify(h.state)).toBe(snapshot);
    expect(effects[0]).toMatchObject({ type: 'log', message: expect.stringContaining('superseded') });
    expect([...h.verdicts().values()].every((v) => v.verdict === 'passed')).toBe(true);
  });

  it('keeps a finished run finished when its start notice comes late, but records the CI URL it lacked', () => {
    const h = new Harness();
    h.merge(['a']);
    const key = h.inFlight()[0]!.key;
    h.finish(key, 'success');
    const effects = h.send({ type: 'run-started', at: 1, key, url: 'https://ci/1', ciRunId: 9 });
    expect(h.state.runs[key]).toMatchObject({ state: 'passed', url: 'https://ci/1', ciRunId: 9 });
    expect(effects.every((e) => e.type === 'log')).toBe(true);
    h.send({ type: 'run-started', at: 2, key, url: 'https://ci/other' });
    expect(h.state.runs[key]!.url).toBe('https://ci/1');
    expect(h.send({ type: 'run-started', at: 3, key: 'nope.1', url: 'https://ci/x' })[0]).toMatchObject({
      type: 'log',
    });
  });

  it('records the CI URL when a run starts', () => {
    const h = new Harness();
    h.merge(['a']);
    const key = h.inFlight()[0]!.key;
    h.send({ type: 'run-started', at: 1, key, url: 'https://ci/1', ciRunId: 77 });
    expect(h.state.runs[key]).toMatchObject({ state: 'running', url: 'https://ci/1', ciRunId: 77 });
  });
});
