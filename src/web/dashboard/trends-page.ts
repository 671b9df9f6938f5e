// /queues/:name/trends: a queue's figures per day or week over a week, a month or a year, each as a
// chart with its numbers beneath; and the flakiest tests once the CI reports tests.
import html from 'html-template-tag';
import { flakyTests } from '../../core/test-book.ts';
import { SPANS, trendPeriods, type SpanName, type TrendPeriod } from '../../engine/trends.ts';
import type { QueueView } from '../../store/types.ts';
import { flakiestTestsChart } from './charts/flaky-chart.ts';
import { trendChart, type TrendSeries } from './charts/trend-chart.ts';
import { queuePath } from './format.ts';

const SPAN_WORDS: Record<SpanName, string> = { '7d': '7 days', '30d': '30 days', '1y': '1 year' };

export function trendsPath(queue: string, span?: SpanName): string {
  return `${queuePath(queue)}/trends${span ? `?span=${span}` : ''}`;
}

/** Times in hours when any is above three hours, else in minutes. */
function timeUnit(periods: TrendPeriod[]): { words: string; ms: number } {
  const longest = Math.max(0, ...periods.map((p) => p.ttvP90Ms ?? 0));
  return longest > 3 * 3_600_000 ? { words: 'hours', ms: 3_600_000 } : { words: 'minutes', ms: 60_000 };
}

const count = (v: number) => String(Math.round(v * 10) / 10);
const ratio = (v: number) => v.toFixed(2);
const share = (v: number) => `${(v * 100).toFixed(1)}%`;

export function trendsPage(file: QueueView, now: number, span: SpanName): string {
  const name = file.state.name;
  const periods = trendPeriods(file.health ?? [], now, span);
  const per = SPANS[span].per;
  const labels = periods.map((p) => p.label);
  const xTitle = per === 'day' ? 'day (UTC)' : 'week starting (UTC)';
  const unit = timeUnit(periods);
  const of = (pick: (p: TrendPeriod) => number | null) => periods.map(pick);
  const chart = (id: string, title: string, yTitle: string, series: TrendSeries[], format: (v: number) => string) =>
    trendChart({ id: `trend-${id}`, title, yTitle, xTitle, periods: labels, series, format });
  const recorded = (file.health ?? []).length;
  const nav = (Object.keys(SPANS) as SpanName[]).map((s) =>
    s === span
      ? html`<strong aria-current="page">${SPAN_WORDS[s]}</strong>`
      : html`<a href="$${trendsPath(name, s)}">${SPAN_WORDS[s]}</a>`,
  );
  const tests = file.state.testBook ? flakyTests(file.state) : [];
  return html`<h1>Trends of ${name}</h1>
<p><a href="$${queuePath(name)}">Back to the queue</a> · per ${per} over the last ${SPAN_WORDS[span]} ·
span: $${nav.join(' · ')}</p>
<p class="muted">Figures are counted as the queue's steps happen and kept for a year; ${String(recorded)} day(s) recorded so far.
Time to verdict is measured from merge, at the upper edge of its bucket (so "at most").</p>
<div class="charts">
$${chart('runs-per-change', 'Runs per change', 'runs per verdict', [{ name: 'runs per change', kind: 'line', values: of((p) => p.runsPerChange) }], ratio)}
$${chart(
    'time-to-verdict',
    'Time to verdict',
    `time from merge to verdict (${unit.words})`,
    [
      { name: 'p50', kind: 'line', values: of((p) => (p.ttvMedianMs === null ? null : p.ttvMedianMs / unit.ms)) },
      { name: 'p90', kind: 'line', values: of((p) => (p.ttvP90Ms === null ? null : p.ttvP90Ms / unit.ms)) },
    ],
    count,
  )}
$${chart(
    'failures',
    'Failures and flakes',
    'runs',
    [
      { name: 'failed runs', kind: 'bar', values: of((p) => p.failures) },
      { name: 'flaky failures', kind: 'bar', values: of((p) => p.flakes) },
    ],
    count,
  )}
$${chart('flake-rate', 'Flake rate', 'flaky failures per run (%)', [{ name: 'flake rate', kind: 'line', values: of((p) => p.flakeRate) }], share)}
$${chart('culprits', 'Culprits found', 'culprits', [{ name: 'culprits', kind: 'bar', values: of((p) => p.culprits) }], count)}
$${chart(
    'changes',
    'Changes merged and queue depth',
    'changes',
    [
      { name: 'changes merged', kind: 'bar', values: of((p) => p.merged) },
      { name: 'deepest queue (changes waiting)', kind: 'line', values: of((p) => (p.days ? p.depth : null)) },
    ],
    count,
  )}
</div>
$${flakiestTestsChart(tests, file.state.settings.quarantine ?? null)}`;
}
