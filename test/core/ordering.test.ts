// Scenario tests of history order, duplicates, late pushes, force-pushes and shared queues.
import { describe, expect, it } from 'vitest';
import { change, Harness, HOUR, streamRef } from '../helpers/harness.ts';

const S = streamRef();

describe('order follows history', () => {
  it('puts a push that arrives before its base behind that base once the base arrives', () => {
    const h = new Harness({ maxParallel: 1 });
    h.send({
      type: 'merged',
      at: 0,
      stream: S,
      before: 'base',
      after: 'sha-z',
      changes: [change('z', { parent: 'base' })],
    });
    h.send({
      type: 'merged',
      at: 1,
      stream: S,
      before: 'sha-a',
      after: 'sha-b',
      changes: [change('b', { parent: 'sha-a' })],
    });
    expect(h.state.active).toEqual(['z']);
    h.send({
      type: 'merged',
      at: 2,
      stream: S,
      before: 'sha-z',
      after: 'sha-a',
      changes: [change('a', { parent: 'sha-z' })],
    });
    expect(h.state.active).toEqual(['z', 'a', 'b']);
  });

  it('tests ahead of the first change the history before it that arrived late, in a run already in flight', () => {
    const h = new Harness({ maxParallel: 1, holdShare: 0 });
    // the queue's first push is the second of the branch: the first crossed it on the way
    h.send({
      type: 'merged',
      at: 0,
      stream: S,
      before: 'sha-a',
      after: 'sha-b',
      changes: [change('b', { parent: 'sha-a' })],
    });
    const run = h.inFlight()[0]!;
    expect(run.refs).toEqual({ [S.project]: 'sha-b' });
    h.send({
      type: 'merged',
      at: 1,
      stream: S,
      before: 'base',
      after: 'sha-a',
      changes: [change('a', { parent: 'base' })],
    });
    expect(h.state.active).toEqual(['a', 'b']);
    expect(h.state.changes.a!.seq).toBeLessThan(h.state.changes.b!.seq);
    expect(h.ofType('notice').map((n) => n.code)).toContain('history-late');
    // the run over b covers a: its pass gives both their verdict
    h.finish(run.key, 'success');
    expect([h.state.changes.a!.verdict, h.state.changes.b!.verdict]).toEqual(['passed', 'passed']);
    expect(h.state.streams[Object.keys(h.state.streams)[0]!]!.good).toBe('sha-b');
  });

  it('tests ahead of the first change two older pushes that arrived late and out of order', () => {
    const h = new Harness({ maxParallel: 1, holdShare: 0 });
    const push = (id: string, before: string, at: number) => ({
      type: 'merged' as const,
      at,
      stream: S,
      before,
      after: `sha-${id}`,
      changes: [change(id, { parent: before })],
    });
    // the branch's history is a, b, c; the queue hears c first, then a (held: its base is unknown), then b
    h.send(push('c', 'sha-b', 0));
    h.send(push('a', 'base', 1));
    expect(h.state.active).toEqual(['c']);
    h.send(push('b', 'sha-a', 2));
    expect(h.state.active).toEqual(['a', 'b', 'c']);
    const stream = h.state.streams[Object.keys(h.state.streams)[0]!]!;
    expect([stream.early, stream.base, stream.tip]).toEqual([[], 'base', 'sha-c']);
    h.finish(h.inFlight()[0]!.key, 'success');
    expect(['a', 'b', 'c'].map((id) => h.state.changes[id]!.verdict)).toEqual(['passed', 'passed', 'passed']);
  });

  it('ignores a push delivered twice, and a late event for a change it has', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a', 'b']);
    const before = JSON.stringify(h.state.changes);
    h.send({ type: 'merged', at: 5, stream: S, before: 'base', after: 'sha-b', changes: [change('a'), change('b')] });
    h.send({ type: 'merged', at: 6, stream: S, changes: [change('a')] });
    expect(JSON.stringify(h.state.changes)).toBe(before);
    expect(h.state.active).toEqual(['a', 'b']);
  });

  it('appends the new part of a push that repeats changes it already has', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a']);
    h.send({ type: 'merged', at: 1, stream: S, before: 'base', after: 'sha-b', changes: [change('a'), change('b')] });
    expect(h.state.active).toEqual(['a', 'b']);
  });

  it('appends a held push in arrival order after the gap timeout, with a notice', () => {
    const h = new Harness({ maxParallel: 1, gapTimeoutMs: 1000 });
    h.merge(['a']);
    h.send({
      type: 'merged',
      at: 0,
      stream: S,
      before: 'sha-missing',
      after: 'sha-c',
      changes: [change('c', { parent: 'sha-missing' })],
    });
    expect(h.state.active).toEqual(['a']);
    h.send({ type: 'tick', at: 1000 });
    expect(h.state.active).toEqual(['a', 'c']);
    expect(h.ofType('notice').map((n) => n.code)).toContain('history-gap');
  });

  it('reports a force-push, skips the changes it removed, and tests the new history', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a', 'b']);
    const key = h.inFlight()[0]!.key;
    h.send({
      type: 'merged',
      at: 1,
      stream: S,
      before: 'sha-b',
      after: 'sha-x',
      forced: true,
      changes: [change('x', { parent: 'base' })],
    });
    expect(h.verdicts().get('a')).toMatchObject({ verdict: 'skipped', reason: expect.stringContaining('force-push') });
    expect(h.verdictOf('b')).toBe('skipped');
    expect(h.ofType('notice').find((n) => n.code === 'history-rewritten')!.message).toMatch(/force-push/);
    expect(h.ofType('cancel').map((c) => c.key)).toContain(key);
    expect(h.state.active).toEqual(['x']);
    expect(h.inFlight().map((r) => r.end)).toEqual(['x']);
  });

  it('treats a push from an older base without the forced flag as a rewrite, never silently', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a', 'b']);
    h.send({
      type: 'merged',
      at: 1,
      stream: S,
      before: 'sha-a',
      after: 'sha-y',
      changes: [change('y', { parent: 'sha-a' })],
    });
    expect(h.ofType('notice').map((n) => n.code)).toContain('history-rewritten');
    expect(h.state.active).toEqual(['y']);
  });

  it('gives a change skipped by a path filter its verdict at once', () => {
    const h = new Harness();
    h.merge(['docs'], S, { docs: { skipReason: 'only paths_ignore files changed' } });
    expect(h.verdicts().get('docs')).toMatchObject({ verdict: 'skipped', reason: 'only paths_ignore files changed' });
    expect(h.inFlight()).toHaveLength(0);
  });
});

describe('shared queues', () => {
  const A = streamRef('engine');
  const B = streamRef('ui');

  it('pins every project in refs and moves each up by its own changes', () => {
    const h = new Harness({ maxParallel: 1 });
    h.merge(['a1'], A);
    h.merge(['b1'], B);
    expect(h.inFlight()[0]!.refs).toEqual({ engine: 'sha-a1' });
    h.merge(['a2'], A);
    h.round(() => false);
    expect(h.inFlight()[0]!.refs).toEqual({ engine: 'sha-a2', ui: 'sha-b1' });
    expect(h.inFlight()[0]!.changes).toEqual(['b1', 'a2']);
  });

  it('pins a broken project at its last good sha while the other projects go on being tested', () => {
    const h = new Harness({ maxParallel: 2, confirm: 0, confidence: 0 });
    h.merge(['a1'], A);
    h.merge(['b1'], B);
    h.round(() => false);
    h.merge(['a2'], A);
    h.merge(['b2'], B);
    const fails = h.brokenBy({ a2: null });
    for (let i = 0; i < 5 && h.verdictOf('a2') === undefined; i++) h.round(fails);
    expect(h.verdictOf('a2')).toBe('culprit');
    expect(h.state.streams['git:engine@main']!.broken?.culprit).toBe('a2');
    for (let i = 0; i < 5 && h.verdictOf('b2') === undefined; i++) h.round(fails);
    expect(h.verdictOf('b2')).toBe('passed');
    h.merge(['b3'], B);
    h.wakeHeld(); // b3 alone waits for company first (batch.hold), then goes out alone
    const run = h.inFlight()[0]!;
    expect(run.refs).toEqual({ engine: 'sha-a1', ui: 'sha-b3' });
    h.now += HOUR;
    h.finish(run.key, 'success');
    expect(h.verdictOf('b3')).toBe('passed');
  });
});

describe('free text kept', () => {
  it('cuts a huge title, author or URL of a change and of each change that landed with it', () => {
    const h = new Harness({});
    const huge = { title: 't'.repeat(10_000), author: 'a'.repeat(1000), url: `https://x/${'u'.repeat(5000)}` };
    const members = Array.from({ length: 60 }, (_, i) => ({ id: `m${i}`, number: i, ...huge }));
    h.send({
      type: 'merged',
      at: 0,
      stream: S,
      before: 'base',
      after: 'sha-a',
      changes: [change('a', { parent: 'base', ...huge, landedWith: members })],
    });
    const record = h.state.changes['a']!;
    expect([record.title?.length, record.title?.at(-1), record.author?.length, record.url]).toEqual([
      300,
      '…',
      200,
      null,
    ]);
    expect(record.landedWith).toHaveLength(50);
    expect(record.landedWith![0]).toEqual({
      id: 'm0',
      number: 0,
      title: `${'t'.repeat(299)}…`,
      author: `${'a'.repeat(199)}…`,
      url: null,
    });
  });
});
