// Scenario tests of the effects of the slash commands on a queue.
import { describe, expect, it } from 'vitest';
import type { CommandVerb } from '../../src/core/index.ts';
import { change, Harness, streamRef } from '../helpers/harness.ts';

function command(h: Harness, verb: CommandVerb, id: string, extra: object = {}) {
  return h.send({ type: 'command', at: h.now, verb, change: id, user: 'alice', replyTo: { comment: 1 }, ...extra });
}

function replyOf(effects: ReturnType<Harness['send']>) {
  return effects.find((e) => e.type === 'reply') as Extract<(typeof effects)[number], { type: 'reply' }>;
}

/** A queue where `bad` was blamed and `after` blocked by it. */
function blamed(): Harness {
  const h = new Harness({ maxParallel: 1, confirm: 0, confidence: 0 });
  h.merge(['bad', 'after']);
  const fails = h.brokenBy({ bad: null });
  for (let i = 0; i < 4 && h.verdictOf('bad') === undefined; i++) h.round(fails);
  expect(h.verdictOf('bad')).toBe('culprit');
  return h;
}

describe('commands', () => {
  it('pause stops dispatching and resume starts it again; each replies', () => {
    const h = new Harness({ maxParallel: 1 });
    expect(replyOf(command(h, 'pause', 'x'))).toMatchObject({ ok: true, to: { comment: 1 } });
    h.merge(['a']);
    expect(h.inFlight()).toHaveLength(0);
    expect(replyOf(command(h, 'pause', 'x')).ok).toBe(false);
    expect(replyOf(command(h, 'resume', 'x')).ok).toBe(true);
    expect(h.inFlight()).toHaveLength(1);
    expect(replyOf(command(h, 'resume', 'x')).ok).toBe(false);
  });

  it('enqueue adds a missed change once', () => {
    const h = new Harness({ maxParallel: 1 });
    const input = { stream: streamRef(), change: change('missed', { parent: 'base' }) };
    expect(replyOf(command(h, 'enqueue', 'missed', { input })).ok).toBe(true);
    expect(h.state.active).toEqual(['missed']);
    expect(replyOf(command(h, 'enqueue', 'missed', { input })).message).toMatch(/already/);
    expect(replyOf(command(h, 'enqueue', 'unknown')).ok).toBe(false);
  });

  it('dequeue removes a change untested as skipped and cancels the run ending at it', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a']);
    const key = h.inFlight()[0]!.key;
    expect(replyOf(command(h, 'dequeue', 'a')).ok).toBe(true);
    expect(h.verdicts().get('a')).toMatchObject({ verdict: 'skipped', reason: 'dequeued by alice' });
    expect(h.state.runs[key]!.state).toBe('cancelled');
    expect(replyOf(command(h, 'dequeue', 'a')).ok).toBe(false);
  });

  it('not-culprit reopens the culprit and what it blocked, records the flake, and re-tests', () => {
    const h = blamed();
    const flakesBefore = h.state.stats.flakes;
    const reply = replyOf(command(h, 'not-culprit', 'bad'));
    expect(reply.ok).toBe(true);
    expect(h.state.stats.flakes).toBeGreaterThan(flakesBefore);
    expect(h.state.changes['bad']!.state).not.toBe('done');
    expect(h.state.active).toEqual(['bad', 'after']);
    expect(
      h.state.verdicts
        .filter((v) => v.retracted)
        .map((v) => v.change)
        .sort(),
    ).toEqual(['after', 'bad']);
    // this time the CI passes: both pass, so each change ends with one live verdict
    for (let i = 0; i < 3 && h.inFlight().length > 0; i++) h.round(() => false);
    expect(h.verdictOf('bad')).toBe('passed');
    expect(h.verdictOf('after')).toBe('passed');
  });

  it('not-culprit on a change that is no culprit is refused and changes nothing', () => {
    const h = blamed();
    const before = JSON.stringify(h.state);
    expect(replyOf(command(h, 'not-culprit', 'after'))).toMatchObject({ ok: false });
    expect(JSON.stringify(h.state)).toBe(before);
  });

  it('retry re-runs the newest failed run of a change still in the queue and resumes a paused queue', () => {
    const h = new Harness({ maxParallel: 1, retries: 0 });
    h.merge(['a']);
    const key = h.inFlight()[0]!.key;
    h.finish(key, 'error');
    expect(h.state.paused).not.toBeNull();
    const reply = replyOf(command(h, 'retry', 'a'));
    expect(reply).toMatchObject({ ok: true, message: expect.stringContaining(key) });
    expect(h.state.paused).toBeNull();
    expect(h.inFlight()).toMatchObject([{ end: 'a', kind: 'retry' }]);
  });

  it('retry on a culprit re-tests it like a reopen, without recording a flake', () => {
    const h = blamed();
    const flakes = h.state.stats.flakes;
    expect(replyOf(command(h, 'retry', 'after')).ok).toBe(true);
    expect(h.state.stats.flakes).toBe(flakes);
    expect(h.state.active).toEqual(['bad', 'after']);
    for (let i = 0; i < 4 && h.inFlight().length > 0; i++) h.round(h.brokenBy({ bad: null }));
    expect(h.verdictOf('bad')).toBe('culprit');
  });
});
