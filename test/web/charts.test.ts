// The charts without a browser: lanes of the run timeline, outcomes and links of its bars, the last
// day only; a trend chart's bars, gaps and table; the flakiest tests with the quarantine limit.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../src/core/index.ts';
import type { FlakyTest } from '../../src/core/test-book.ts';
import {
  placeRuns,
  runOutcome,
  runPurpose,
  runTimeline,
  TIMELINE_MS,
} from '../../src/web/dashboard/charts/timeline.ts';
import { trendChart } from '../../src/web/dashboard/charts/trend-chart.ts';
import { flakiestTestsChart } from '../../src/web/dashboard/charts/flaky-chart.ts';
import { defaultLabel } from '../../src/report/model.ts';
import { Harness } from '../helpers/harness.ts';

const H = 3_600_000;
const now = Date.UTC(2026, 11, 2, 12);

function run(key: string, from: number, to: number | null, state: Run['state'], extra: Partial<Run> = {}): Run {
  return {
    key,
    line: 'main',
    kind: 'batch',
    end: 'c1',
    changes: [],
    refs: {},
    state,
    attempt: 1,
    createdAt: from,
    ...(to === null ? {} : { finishedAt: to }),
    deadline: from + 10 * H,
    ...extra,
  };
}

describe('run timeline', () => {
  it('puts overlapping runs in lanes of their own and reuses a lane once its run ended', () => {
    const placed = placeRuns(
      [
        run('a', now - 5 * H, now - 3 * H, 'failed'),
        run('b', now - 4 * H, now - 2 * H, 'passed'),
        run('c', now - 3 * H, now - H, 'passed'),
        run('d', now - 2.5 * H, null, 'running'),
      ],
      now,
    );
    expect(placed.map((p) => [p.run.key, p.lane])).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 0],
      ['d', 2],
    ]);
    // a run in flight reaches now
    expect(placed.at(-1)!.to).toBe(now);
  });

  it('shows only the last day, and names outcomes and purposes as the page does', () => {
    const placed = placeRuns(
      [run('old', now - TIMELINE_MS - 2 * H, now - TIMELINE_MS - H, 'passed'), run('new', now - H, now, 'passed')],
      now,
    );
    expect(placed.map((p) => p.run.key)).toEqual(['new']);
    expect(runOutcome(run('x', 0, 1, 'failed', { flake: true }))).toBe('flake');
    expect(runOutcome(run('x', 0, 1, 'timed-out'))).toBe('error');
    expect(runOutcome(run('x', 0, null, 'dispatched'))).toBe('running');
    expect(runPurpose(run('x', 0, 1, 'passed', { kind: 'confirm' }))).toBe('confirmation');
    expect(runPurpose(run('x', 0, 1, 'passed', { kind: 'check' }))).toBe('tip check');
    expect(runPurpose(run('x', 0, 1, 'passed', { line: 'git:app@main' }))).toBe('fix line');
  });

  it('draws a bar per run of a bisection, linked to its log, with the verdict marked and a table row each', () => {
    const h = new Harness({ maxParallel: 2, confirm: 1, confidence: 0 });
    h.merge(['c1', 'c2', 'bad', 'c4']);
    const fails = h.brokenBy({ bad: null });
    while (h.inFlight().length) {
      h.now += 600_000;
      h.round(fails);
    }
    expect(h.verdictOf('bad')).toBe('culprit');
    const runs = Object.values(h.state.runs);
    const page = runTimeline(h.file('command:ost'), h.now, defaultLabel);
    expect(page.match(/<rect class="run-bar /g)).toHaveLength(runs.length);
    for (const r of runs) {
      expect(page).toContain(`data-run="${r.key}" data-outcome="${runOutcome(r)}"`);
      expect(page).toContain(`<a href="/api/runs/${encodeURIComponent(r.key)}/log"`);
    }
    expect(page.match(/class="verdict-mark verdict-culprit"/g)).toHaveLength(1);
    expect(page.match(/<tr><td>/g)).toHaveLength(runs.length);
    // elsewhere than a command runner, a bar links to its CI page, and without one to nothing
    const r0 = runs[0]!;
    r0.url = 'https://ci.example.org/job/1';
    const jenkins = runTimeline(h.file('jenkins:ost'), h.now, defaultLabel);
    expect(jenkins).toContain('<a href="https://ci.example.org/job/1"');
    expect(jenkins).not.toContain('/api/runs/');
  });

  it('draws nothing for a queue without runs', () => {
    expect(runTimeline(new Harness().file('command:ost'), now, defaultLabel)).toBe('');
  });
});

describe('trend chart', () => {
  it('draws a bar per non-zero count, breaks a line where a value is missing, and lists every period', () => {
    const chart = trendChart({
      id: 'trend-x',
      title: 'Runs <and> flakes',
      yTitle: 'runs',
      xTitle: 'day (UTC)',
      periods: ['2026-11-30', '2026-12-01', '2026-12-02'],
      series: [
        { name: 'runs', kind: 'bar', values: [3, 0, 5] },
        { name: 'rate', kind: 'line', values: [0.5, null, 0.25] },
      ],
      format: String,
    });
    expect(chart.match(/<rect /g)).toHaveLength(2);
    // two points, two moves: the line is broken over the missing day
    const path = /<path d="([^"]*)"/.exec(chart)![1]!;
    expect(path.match(/M/g)).toHaveLength(2);
    expect(chart).toContain('role="img" aria-labelledby="trend-x-t trend-x-d"');
    expect(chart).toContain('Runs &lt;and&gt; flakes');
    expect(chart).not.toContain('Runs <and>');
    expect(chart.match(/<tr><td>/g)).toHaveLength(3);
    expect(chart).toContain('<td>2026-12-01</td><td>0</td><td>–</td>');
  });
});

describe('flakiest tests chart', () => {
  const tests: FlakyTest[] = Array.from({ length: 12 }, (_, i) => ({
    id: `suite.test_${i}`,
    failures: 20 - i,
    flakes: 12 - i,
    flakeRate: (12 - i) / 40,
    quarantinedSince: i < 2 ? now : null,
  }));

  it('shows the ten flakiest, the quarantined ones in their own colour, and the limit', () => {
    const chart = flakiestTestsChart(tests, 0.2);
    expect(chart.match(/<tr><td><code>/g)).toHaveLength(10);
    expect(chart.match(/class="bars series-2"/g)).toHaveLength(2);
    expect(chart).toContain('class="limit"');
    expect(flakiestTestsChart(tests, null)).not.toContain('class="limit"');
    expect(flakiestTestsChart([], 0.2)).toBe('');
  });
});
