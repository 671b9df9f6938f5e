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

  // A merged change cannot be taken out of its branch: every later prefix of its stream holds it. So
  // a change whose wait cannot end is tested in history order, with a notice, and it alone can be
  // blamed for what it breaks (rejecting it untested would let the next change take that blame).
  it('tests a change whose dependency never arrives once the deadline passes, with a notice', () => {
    const h = new Harness({
      maxParallel: 1,
      dependencyTimeoutMs: 24 * HOUR,
      confirm: 0,
      confidence: 0,
      batchMaxSize: 1,
    });
    h.merge(['ui1', 'ui2'], B, { ui1: { dependsOn: ['ghost'] } });
    h.now = 24 * HOUR;
    h.send({ type: 'tick', at: h.now });
    expect(h.ofType('notice').find((n) => n.code === 'dependency-timeout')).toMatchObject({
      change: 'ui1',
      message: expect.stringContaining('ghost'),
    });
    expect(h.state.active).toEqual(['ui1', 'ui2']);
    const fails = h.brokenBy({ ui1: null });
    for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('ui1')).toBe('culprit');
    expect(h.verdictOf('ui2')).toBe('blocked');
  });

  it('breaks a dependency loop by testing in history order, with a notice', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['ui1'], B, { ui1: { dependsOn: ['eng1'] } });
    h.merge(['eng1'], A, { eng1: { dependsOn: ['ui1'] } });
    expect(h.ofType('notice').filter((n) => n.code === 'dependency-loop')).toHaveLength(1);
    expect([...h.state.active].sort()).toEqual(['eng1', 'ui1']);
    expect(h.verdicts().size).toBe(0);
  });

  it('lets a change that depends on a later change of its own stream go in history order', () => {
    // rejecting a1 would not take its code out of the branch: a2's prefix holds it, and a2 would be
    // blamed for a1's breakage; post-merge, history already tests a1 before a2
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, batchMaxSize: 1 });
    h.merge(['a1', 'a2'], A, { a1: { dependsOn: ['a2'] } });
    expect(h.state.active).toEqual(['a1', 'a2']);
    const fails = h.brokenBy({ a1: null });
    for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('a1')).toBe('culprit');
    expect(h.verdicts().get('a2')).toMatchObject({ verdict: 'blocked', culprit: 'a1' });
  });

  it('holds a change whose dependency in its own stream is not known yet', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a1'], A, { a1: { dependsOn: ['a2'] } });
    expect(h.state.changes['a1']!.state).toBe('waiting');
    h.merge(['a2'], A);
    expect(h.state.active).toEqual(['a1', 'a2']);
  });

  it('removes a dependent of a culprit still waiting in its stream when the stream reaches it, not the changes before it', () => {
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, batchMaxSize: 1 });
    h.merge(['ui1', 'ui2', 'ui3'], B, { ui1: { dependsOn: ['eng2'] }, ui2: { dependsOn: ['eng1'] } });
    h.merge(['eng1'], A);
    const fails = h.brokenBy({ eng1: null });
    for (let i = 0; i < 6 && h.verdictOf('eng1') === undefined; i++) h.round(fails);
    expect(h.verdictOf('eng1')).toBe('culprit');
    expect(h.verdictOf('ui1')).toBeUndefined(); // still waiting for eng2
    h.merge(['eng2'], A, { eng2: { reverts: ['eng1'] } });
    for (let i = 0; i < 6 && h.inFlight().length > 0; i++) h.round(h.brokenBy({ eng1: 'eng2' }));
    expect(h.verdictOf('ui1')).toBe('passed');
    expect(h.verdicts().get('ui2')).toMatchObject({ verdict: 'blocked', culprit: 'eng1', reason: 'depends on eng1' });
    expect(h.verdicts().get('ui3')).toMatchObject({ verdict: 'blocked', culprit: 'eng1' });
  });

  it('treats a change that depends on a culprit of its own stream as one more change after it', () => {
    // removing it would leave its code in the branch, and the next change would take its blame
    const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0, awaitRevert: false, batchMaxSize: 1 });
    h.merge(['bad'], A);
    for (let i = 0; i < 3 && h.verdictOf('bad') === undefined; i++) h.round(() => true);
    h.merge(['fix', 'needs-bad', 'after'], A, { 'needs-bad': { dependsOn: ['bad'] } });
    const fails = h.brokenBy({ bad: 'fix', 'needs-bad': null });
    for (let i = 0; i < 10 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('fix')).toBe('fixed');
    expect(h.verdictOf('needs-bad')).toBe('culprit');
    expect(h.verdicts().get('after')).toMatchObject({ verdict: 'blocked', culprit: 'needs-bad' });
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
