// The trends page's "flakiest tests": each test's estimated flake rate as a horizontal bar (d3-scale's
// band and linear scales), the quarantined ones marked, from the queue's test book.
import html from 'html-template-tag';
import { scaleBand, scaleLinear } from 'd3-scale';
import type { FlakyTest } from '../../../core/test-book.ts';
import { percent, time } from '../format.ts';
import { figure, svgLine, svgText, xAxis, type Frame } from './frame.ts';

const ROW = 34;
export const FLAKY_SHOWN = 10;

export function flakiestTestsChart(tests: FlakyTest[], quarantineAt: number | null): string {
  const shown = tests.slice(0, FLAKY_SHOWN);
  if (shown.length === 0) return '';
  const frame: Frame = {
    width: 720,
    height: 16 + shown.length * ROW + 40,
    margin: { top: 16, right: 24, bottom: 40, left: 24 },
  };
  const bottom = frame.height - frame.margin.bottom;
  const y = scaleBand<string>()
    .domain(shown.map((t) => t.id))
    .range([frame.margin.top, bottom]);
  const x = scaleLinear()
    .domain([0, Math.max(quarantineAt ?? 0, ...shown.map((t) => t.flakeRate)) || 1])
    .nice()
    .range([frame.margin.left, frame.width - frame.margin.right]);
  const cls = (t: FlakyTest) => (t.quarantinedSince !== null ? 'series-2' : 'series-1');
  const bars = shown.map(
    (t) => html`<g class="bars ${cls(t)}">$${svgText(t.id, { x: frame.margin.left, y: y(t.id)! + 10 })}
<rect x="${String(x(0))}" y="${String(y(t.id)! + 16)}" width="${String(Math.max(1, x(t.flakeRate) - x(0)))}" height="${String(y.bandwidth() - 20)}">
<title>${t.id}: ${percent(t.flakeRate)}</title></rect></g>`,
  );
  const limit =
    quarantineAt === null
      ? ''
      : svgLine('limit', { x1: x(quarantineAt), x2: x(quarantineAt), y1: frame.margin.top, y2: bottom });
  const ticks = x.ticks(5).map((t) => ({ x: x(t), label: percent(t) }));
  const axis = xAxis(frame, ticks, 'estimated flake rate (% of runs)');
  return figure({
    id: 'trend-flaky-tests',
    title: 'Flakiest tests',
    description:
      `The ${shown.length} flakiest tests by estimated flake rate` +
      (quarantineAt === null ? '.' : `; the line marks the quarantine limit, ${percent(quarantineAt)}.`),
    frame,
    svgBody: axis + limit + bars.join(''),
    legend: [
      { cls: 'series-1', name: 'flake rate' },
      { cls: 'series-2', name: 'flake rate, quarantined' },
      ...(quarantineAt === null ? [] : [{ cls: 'limit-swatch', name: 'quarantine limit (flaky.quarantine)' }]),
    ],
    table: {
      caption: 'The numbers behind "Flakiest tests"',
      head: ['test', 'failures', 'flaky failures', 'estimated rate', 'quarantined since'],
      rows: shown.map((t) => [
        html`<code>${t.id}</code>`,
        html`${String(t.failures)}`,
        html`${String(t.flakes)}`,
        html`${percent(t.flakeRate)}`,
        html`${t.quarantinedSince === null ? '–' : time(t.quarantinedSince)}`,
      ]),
    },
  });
}
