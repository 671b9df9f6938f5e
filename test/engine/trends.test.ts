// The figures the trends page draws: changes merged and the queue's depth counted per day, a year
// of days kept, and days taken together per day or per Monday-to-Sunday week.
import { describe, expect, it } from 'vitest';
import { emptyQueue, type ChangeRecord } from '../../src/core/index.ts';
import { DAYS_KEPT, recordHealth, type DayHealth } from '../../src/engine/health.ts';
import { trendPeriods } from '../../src/engine/trends.ts';

const DAY = 86_400_000;
// a Wednesday
const at = Date.UTC(2026, 10, 25, 12);

function change(id: string, seq: number, state: ChangeRecord['state']): ChangeRecord {
  return { id, sha: id, host: 'git', project: 'p', branch: 'm', stream: 's', seq, state, enqueuedAt: at };
}

function day(dayText: string, figures: Partial<DayHealth>): DayHealth {
  return { day: dayText, runs: 0, verdicts: 0, failures: 0, flakes: 0, culprits: 0, ttv: [0], ...figures };
}

describe('per-day figures for the trends', () => {
  it('counts the changes a step enqueued and the deepest the queue was that day', () => {
    const state = emptyQueue('q');
    state.changes = { a: change('a', 1, 'done'), b: change('b', 2, 'queued'), c: change('c', 3, 'queued') };
    state.seq = 3;
    let days = recordHealth([], { stats: state.stats, seq: 1 }, state, [], at);
    expect(days[0]).toMatchObject({ merged: 2, depth: 2 });
    state.changes.b!.state = 'done';
    state.changes.c!.state = 'done';
    days = recordHealth(days, { stats: state.stats, seq: 3 }, state, [], at + 1000);
    // nothing new entered; the day's deepest point stays
    expect(days[0]).toMatchObject({ merged: 2, depth: 2 });
  });

  it('keeps a year and a day of days, dropping the oldest', () => {
    const state = emptyQueue('q');
    let days: DayHealth[] = [];
    for (let d = 0; d < DAYS_KEPT + 10; d++)
      days = recordHealth(days, { stats: state.stats, seq: 0 }, state, [], at + d * DAY);
    expect(days).toHaveLength(DAYS_KEPT);
    expect(days[0]!.day).toBe(new Date(at + 10 * DAY).toISOString().slice(0, 10));
  });
});

describe('trend periods', () => {
  const days = [
    day('2026-11-23', { runs: 3, verdicts: 2, failures: 1, flakes: 1, culprits: 0, merged: 2, depth: 4 }),
    day('2026-11-25', { runs: 5, verdicts: 3, failures: 2, flakes: 0, culprits: 1, merged: 3, depth: 1 }),
    day('2026-11-16', { runs: 7, verdicts: 7, merged: 7, depth: 2 }),
  ];

  it('gives one period per day over 7 and 30 days, ending today, with no rates on an empty day', () => {
    const week = trendPeriods(days, at, '7d');
    expect(week.map((p) => p.label)).toEqual([
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
    ]);
    expect(week[4]).toMatchObject({ runs: 3, verdicts: 2, runsPerChange: 1.5, flakeRate: 1 / 3, depth: 4, days: 1 });
    expect(week[5]).toMatchObject({ runs: 0, runsPerChange: null, flakeRate: null, days: 0 });
    expect(trendPeriods(days, at, '30d')).toHaveLength(30);
  });

  it('sums a year per week, each starting on a Monday', () => {
    const year = trendPeriods(days, at, '1y');
    expect(year).toHaveLength(52);
    expect(year.every((p) => new Date(p.start).getUTCDay() === 1)).toBe(true);
    expect(year.at(-1)).toMatchObject({
      label: '2026-11-23',
      runs: 8,
      verdicts: 5,
      culprits: 1,
      merged: 5,
      depth: 4,
      days: 2,
    });
    expect(year.at(-2)).toMatchObject({ label: '2026-11-16', runs: 7, runsPerChange: 1 });
  });
});
