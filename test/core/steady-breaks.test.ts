// A break of a test that never flaked, searched per failing test: a run of the failed prefix goes
// beside the probes, and runs in flight above a failing probe are kept: their failures count toward
// the culprit's confirmation, which then needs no round of its own.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/types.ts';
import { Harness } from '../helpers/harness.ts';

const HOUR = 3_600_000;

/** A queue of 4 runners with 40 clean batches behind it, and suite/flaky flaked in 4 of them. */
function withHistory(): Harness {
  const h = new Harness({ maxParallel: 4 });
  for (let i = 0; i < 40; i++) {
    h.merge([`h${i}`]);
    h.wakeHeld();
    let once = i % 10 === 5;
    for (let n = 0; n < 10 && h.inFlight().length > 0; n++)
      h.testRound(() => (once ? ((once = false), ['suite/flaky']) : []));
  }
  return h;
}

/** Ends one run in flight, now, with `failed` as its failing tests. */
function end(h: Harness, run: Run, failed: string[]): void {
  h.send({
    type: 'run-finished',
    at: h.now,
    key: run.key,
    status: failed.length ? 'failure' : 'success',
    tests: { failed, passed: 99 },
  });
}

/** Merges `ids` as one batch and fails its run with `failed`; returns the runs the search sent. */
function failBatch(h: Harness, ids: string[], failed: string[]): Run[] {
  h.merge(ids);
  h.wakeHeld();
  const [batch] = h.inFlight();
  expect(batch!.changes).toEqual(ids);
  h.now += HOUR;
  end(h, batch!, failed);
  return h.inFlight();
}

const ends = (runs: Run[]) => runs.map((r) => `${r.kind}:${r.end}`).sort();

describe('a break of a test that never flaked', () => {
  it('runs the failed prefix again beside the probes, and names the culprit when they come back', () => {
    const h = withHistory();
    const sent = failBatch(h, ['a', 'b', 'c'], ['suite/steady']);
    expect(ends(sent)).toEqual(['confirm:c', 'probe:a', 'probe:b']);
    const again = sent.find((r) => r.kind === 'confirm')!;
    for (let n = 0; n < 5 && h.inFlight().length > 0; n++) h.testRound(h.breaksTests({ b: ['suite/steady'] }));
    const blamed = h.verdicts().get('b');
    expect(blamed).toMatchObject({ verdict: 'culprit', tests: ['suite/steady'] });
    // the run beside the probes is evidence against the culprit
    expect(blamed!.evidence).toContainEqual(expect.objectContaining({ key: again.key, result: 'failed' }));
    expect(h.verdictOf('a')).toBe('passed');
    expect(h.verdicts().get('c')).toMatchObject({ verdict: 'blocked', culprit: 'b' });
  });

  it('keeps the runs above a failing probe in flight, and their failures confirm the culprit', () => {
    const h = withHistory();
    const sent = failBatch(h, ['a', 'b', 'c', 'd'], ['suite/steady']);
    expect(ends(sent)).toEqual(['confirm:d', 'probe:a', 'probe:b', 'probe:c']);
    h.now += HOUR;
    const at = (id: string) => sent.find((r) => r.end === id)!;
    end(h, at('a'), []);
    end(h, at('b'), ['suite/steady']);
    expect(ends(h.inFlight())).toEqual(['confirm:d', 'probe:c']);
    end(h, at('c'), ['suite/steady']);
    end(h, at('d'), ['suite/steady']);
    expect(h.verdictOf('b')).toBe('culprit');
    expect(h.inFlight().filter((r) => r.kind === 'confirm' || r.kind === 'probe')).toEqual([]);
  });
});
