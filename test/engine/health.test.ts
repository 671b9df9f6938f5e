// Per-day health figures: counting one step's runs and verdicts, and the 7-day summary (trends.test.ts:
// the year kept and the trends page's periods).
import { describe, expect, it } from 'vitest';
import { emptyQueue, type Effect } from '../../src/core/index.ts';
import { recordHealth, summarise, TTV_EDGES_MIN, type DayHealth } from '../../src/engine/health.ts';

const DAY = 86_400_000;
const at = Date.UTC(2026, 10, 24, 12);

describe('health figures', () => {
  it('counts runs, verdicts, culprits, failures and flakes per day, with a bounded time-to-verdict histogram', () => {
    const state = emptyQueue('q');
    state.changes.a = {
      id: 'a',
      sha: 'a',
      host: 'git',
      project: 'p',
      branch: 'm',
      stream: 's',
      seq: 1,
      state: 'done',
      enqueuedAt: at - 40 * 60_000,
    };
    state.stats.flakes = 1;
    state.stats.runsFailed = 2;
    const effects: Effect[] = [
      { type: 'dispatch', run: { key: 'k', refs: {}, changes: [], attempt: 1, kind: 'batch', line: 'main', end: 'a' } },
      { type: 'report', change: 'a', verdict: { change: 'a', verdict: 'culprit', at } },
    ];
    let days: DayHealth[] = [];
    days = recordHealth(days, { stats: emptyQueue('q').stats, seq: 0 }, state, effects, at);
    expect(days).toHaveLength(1);
    expect(days[0]).toMatchObject({ day: '2026-11-24', runs: 1, verdicts: 1, culprits: 1, failures: 2, flakes: 1 });
    expect(days[0]!.ttv).toHaveLength(TTV_EDGES_MIN.length + 1);
    expect(days[0]!.ttv[TTV_EDGES_MIN.indexOf(45)]).toBe(1);
    const s = summarise(days, at);
    expect(s).toMatchObject({
      runsPerChange: 1,
      flakeShare: 0.5,
      culprits: 1,
      verdicts: 1,
      ttvMedianMs: 45 * 60_000,
      ttvP90Ms: 45 * 60_000,
    });
  });

  it('summarises the last seven days of ten', () => {
    let days: DayHealth[] = [];
    const state = emptyQueue('q');
    for (let d = 0; d < 10; d++)
      days = recordHealth(
        days,
        { stats: state.stats, seq: state.seq },
        state,
        [
          {
            type: 'dispatch',
            run: { key: `k${d}`, refs: {}, changes: [], attempt: 1, kind: 'batch', line: 'main', end: 'x' },
          },
        ],
        at + d * DAY,
      );
    expect(days).toHaveLength(10);
    expect(summarise(days, at + 9 * DAY)).toMatchObject({ runsPerChange: null, verdicts: 0 });
    expect(days.slice(-7).reduce((a, d) => a + d.runs, 0)).toBe(7);
  });
});
