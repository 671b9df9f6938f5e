// The batching policies: the runs each sends over a line's untested tail, the lone change each
// holds, and the schedule asking the queue's own policy.
import { describe, expect, it } from 'vitest';
import { batchingOf, batchingPolicies, BATCHING_NAMES, defaultSettings, emptyQueue } from '../../src/core/index.ts';
import type { LineView } from '../../src/core/lines.ts';

/** A line of `n` changes, none covered yet unless `inFlight` says so. */
function line(n: number, inFlight: number[] = []): LineView {
  const changes = Array.from({ length: n }, (_, i) => `c${i}`);
  return {
    line: 'main',
    changes,
    inFlight: changes.map((_, i) => inFlight.filter((p) => p === i).length),
    bounds: changes.map(() => 0),
    inFlightRuns: inFlight.map((end) => ({ kind: 'batch', end: `c${end}` }) as never),
  };
}

describe('batching policies', () => {
  it('are known by name, the first the default, and an unknown or missing name batches as save-runs', () => {
    expect(BATCHING_NAMES[0]).toBe(defaultSettings.batching);
    for (const name of BATCHING_NAMES) expect(batchingOf(name).name).toBe(name);
    expect(batchingOf(undefined)).toBe(batchingPolicies['save-runs']);
    expect(batchingOf('eager')).toBe(batchingPolicies['save-runs']);
  });

  it('save-runs sends one batch of up to max_size; use-idle-runners one per free runner', () => {
    const save = { ...defaultSettings, ...batchingPolicies['save-runs'].defaults, batchMaxSize: 3 };
    const idle = { ...defaultSettings, ...batchingPolicies['use-idle-runners'].defaults, batchMaxSize: 3 };
    expect(batchingOf('save-runs').batchEnds(line(8), save, 4)).toEqual([2]);
    expect(batchingOf('use-idle-runners').batchEnds(line(8), idle, 4)).toEqual([2, 5, 7]);
    // a batch in flight covers the line up to its end; save-runs waits for it
    expect(batchingOf('save-runs').batchEnds(line(8, [2]), save, 4)).toEqual([]);
    expect(batchingOf('use-idle-runners').batchEnds(line(8, [2]), idle, 1)).toEqual([5]);
  });

  it('holds a lone change for company under save-runs only, until its share of the mean run time', () => {
    for (const name of BATCHING_NAMES) {
      const state = emptyQueue('q', { batching: name, ...batchingPolicies[name].defaults });
      state.stats.runMs = 1000;
      state.changes.c0 = { enqueuedAt: 100 } as never;
      const held = batchingOf(name).held(state, line(1), 200);
      expect(held).toEqual(name === 'save-runs' ? { id: 'c0', until: 500 } : null);
      expect(batchingOf(name).held(state, line(1), 500)).toBeNull();
    }
  });

  it('batches while a failure is searched when the policy speculates', () => {
    expect(batchingOf('save-runs').batchesWhileSearching(defaultSettings)).toBe(false);
    const idle = { ...defaultSettings, ...batchingPolicies['use-idle-runners'].defaults };
    expect(batchingOf('use-idle-runners').batchesWhileSearching(idle)).toBe(true);
  });
});
