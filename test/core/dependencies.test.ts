// Scenario tests of Depends-On: hold-back, release, deadline, loops and removal with a culprit.
import { describe, expect, it } from 'vitest';
import { Harness, HOUR, streamRef } from '../helpers/harness.ts';

const A = streamRef('engine');
const B = streamRef('ui');

describe('Depends-On', () => {
  it('holds a change, and the rest of its stream, until its dependency is in the queue', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['ui1', 'ui2'], B, { ui1: { dependsOn: ['eng1'] } });
    expect(h.state.active).toEqual([]);
    expect(h.state.changes['ui1']!.state).toBe('waiting');
    h.merge(['eng1'], A);
    expect(h.state.active).toEqual(['eng1', 'ui1', 'ui2']);
  });

  it('rejects a change whose dependency never arrives before the deadline, and lets the stream go on', () => {
    const h = new Harness({ maxParallel: 1, dependencyTimeoutMs: 24 * HOUR });
    h.merge(['ui1', 'ui2'], B, { ui1: { dependsOn: ['ghost'] } });
    h.send({ type: 'tick', at: 24 * HOUR });
    expect(h.verdicts().get('ui1')).toMatchObject({ verdict: 'rejected', reason: expect.stringContaining('ghost') });
    expect(h.state.active).toEqual(['ui2']);
  });

  it('rejects a dependency loop', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['ui1'], B, { ui1: { dependsOn: ['eng1'] } });
    h.merge(['eng1'], A, { eng1: { dependsOn: ['ui1'] } });
    const rejected = [...h.verdicts().values()].filter((v) => v.verdict === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected[0]!.reason).toMatch(/dependency loop/);
    // once the loop is broken the other change is free to go
    expect(h.state.active.length + rejected.length).toBe(2);
  });

  it('rejects a change that depends on a later change of its own stream', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a1', 'a2'], A, { a1: { dependsOn: ['a2'] } });
    expect(h.verdicts().get('a1')).toMatchObject({ verdict: 'rejected' });
    expect(h.state.active).toEqual(['a2']);
  });

  it('removes the changes that depend on a culprit with it', () => {
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0 });
    h.merge(['eng1'], A);
    h.merge(['ui1'], B, { ui1: { dependsOn: ['eng1'] } });
    h.merge(['ui2'], B);
    const fails = h.brokenBy({ eng1: null });
    for (let i = 0; i < 6 && h.verdictOf('eng1') === undefined; i++) h.round(fails);
    expect(h.verdictOf('eng1')).toBe('culprit');
    expect(h.verdicts().get('ui1')).toMatchObject({ verdict: 'blocked', culprit: 'eng1' });
    expect(h.verdicts().get('ui2')).toMatchObject({ verdict: 'blocked', culprit: 'eng1' });
    expect(h.verdicts().get('eng1')!.blocked).toEqual(['ui1', 'ui2']);
  });
});
