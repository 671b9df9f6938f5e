// Priority: a change marked to jump the line is covered by the next run at once, without the hold
// or the one-batch-in-flight limit, even beside a search or in a broken stream's fix line; `/ost priority`
// marks a queued change.
import { describe, expect, it } from 'vitest';
import { Harness, streamRef } from '../helpers/harness.ts';

/** A queue with a known run time, so that a lone change would be held for company. */
function warm(): Harness {
  const h = new Harness({ maxParallel: 4 });
  h.merge(['first']);
  h.round(() => false);
  return h;
}

describe('priority', () => {
  it('sends a run up to a priority change at once, beside the batch in flight, without holding it', () => {
    const h = warm();
    h.merge(['a', 'b']);
    expect(h.inFlight().map((r) => r.end)).toEqual(['b']); // save-runs: one batch in flight
    h.merge(['c']);
    expect(h.inFlight().map((r) => r.end)).toEqual(['b']);
    h.merge(['hotfix'], streamRef(), { hotfix: { priority: true } });
    expect(h.inFlight().map((r) => [r.end, r.changes])).toEqual([
      ['b', ['a', 'b']],
      ['hotfix', ['a', 'b', 'c', 'hotfix']],
    ]);
    h.round(() => false);
    expect(h.verdictOf('hotfix')).toBe('passed');
  });

  it('does not hold a lone priority change for company', () => {
    const h = warm();
    h.merge(['lone'], streamRef(), { lone: { priority: true } });
    expect(h.inFlight().map((r) => r.end)).toEqual(['lone']);
  });

  it('goes beside a search, and leaves the rest to it once its run failed', () => {
    const h = warm();
    h.merge(['a', 'bad', 'b']);
    const fails = h.brokenBy({ bad: null });
    h.round(fails); // the batch fails: the search starts
    const probes = h.inFlight().length;
    h.merge(['urgent'], streamRef(), { urgent: { priority: true } });
    expect(h.inFlight().length).toBe(probes + 1);
    expect(h.inFlight().at(-1)!.end).toBe('urgent');
    for (let i = 0; i < 10 && h.inFlight().length > 0; i++) h.round(fails);
    expect(h.verdictOf('bad')).toBe('culprit');
    expect(h.verdicts().get('urgent')).toMatchObject({ verdict: 'blocked', culprit: 'bad' });
  });

  it("jumps a broken stream's fix line too: its run goes out beside the revert's, and counts once it passes", () => {
    const h = new Harness({ maxParallel: 2, confirm: 1, confidence: 0 });
    h.merge(['bad']);
    h.round(() => true);
    h.round(() => true);
    expect(h.verdictOf('bad')).toBe('culprit');
    h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
    h.merge(['after']); // waits: the revert's run is the fix line's batch in flight
    h.merge(['hotfix'], streamRef(), { hotfix: { priority: true } });
    expect(h.inFlight().map((r) => r.changes)).toEqual([['revert'], ['revert', 'after', 'hotfix']]);
    h.round(() => false);
    expect(h.verdictOf('revert')).toBe('fixed');
    expect(h.verdictOf('hotfix')).toBe('passed');
    expect(h.verdictOf('after')).toBe('passed');
  });

  it("cancels its fix-line run when the revert passes if the main line's prefix differs (another project moved)", () => {
    const h = new Harness({ maxParallel: 3, confirm: 1, confidence: 0 });
    h.merge(['bad']);
    h.round(() => true);
    h.round(() => true);
    h.merge(['other'], streamRef('lib')); // held for company: untested when the revert passes
    h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
    h.merge(['hotfix'], streamRef(), { hotfix: { priority: true } });
    const early = h.inFlight().find((r) => r.end === 'hotfix')!;
    expect(early.refs).toEqual({ app: 'sha-hotfix', lib: 'base' });
    h.round(() => false);
    expect(h.ofType('cancel')).toContainEqual({ type: 'cancel', key: early.key, reason: 'git:app@main is fixed' });
    expect(h.inFlight().map((r) => [r.line, r.end, r.refs])).toEqual([
      ['main', 'hotfix', { app: 'sha-hotfix', lib: 'sha-other' }],
    ]);
    h.round(() => false);
    expect(h.verdictOf('hotfix')).toBe('passed');
  });

  it('marks a queued change with /ost priority, and refuses one that has its verdict', () => {
    const h = warm();
    h.merge(['a', 'b']);
    h.merge(['c', 'd']);
    expect(h.inFlight().map((r) => r.end)).toEqual(['b']);
    h.send({ type: 'command', at: h.now, verb: 'priority', change: 'c', user: 'alice', replyTo: 1 });
    expect(h.ofType('reply').at(-1)).toMatchObject({ ok: true, change: 'c' });
    expect(h.inFlight().map((r) => r.end)).toEqual(['b', 'c']);
    h.send({ type: 'command', at: h.now, verb: 'priority', change: 'first', user: 'alice', replyTo: 1 });
    expect(h.ofType('reply').at(-1)).toMatchObject({ ok: false, message: 'first already has its verdict: passed' });
  });
});
