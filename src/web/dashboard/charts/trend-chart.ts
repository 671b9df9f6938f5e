// A chart of figures per day or week: bars for counts, lines for rates and times, drawn with
// d3-scale's band and linear scales and d3-shape's line; a missing value leaves a gap.
import html from 'html-template-tag';
import { scaleBand, scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import { figure, TREND_FRAME, xAxis, yAxis } from './frame.ts';

export interface TrendSeries {
  name: string;
  kind: 'bar' | 'line';
  values: (number | null)[];
}

export interface TrendChartSpec {
  id: string;
  title: string;
  /** The y axis' title with its unit: `runs per change`, `time to verdict (hours)`. */
  yTitle: string;
  /** The x axis' title: `day (UTC)`, `week starting (UTC)`. */
  xTitle: string;
  /** The periods' labels, oldest first. */
  periods: string[];
  series: TrendSeries[];
  /** A value as the axis and table show it. */
  format: (v: number) => string;
}

/** How many period labels fit under the axis: about eight. */
function labelEvery(count: number): number {
  return Math.max(1, Math.ceil(count / 8));
}

export function trendChart(spec: TrendChartSpec): string {
  const frame = TREND_FRAME;
  const { margin } = frame;
  const x = scaleBand<string>()
    .domain(spec.periods)
    .range([margin.left, frame.width - margin.right])
    .paddingInner(0.2)
    .paddingOuter(0.1);
  const all = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = scaleLinear()
    .domain([0, Math.max(...all, 0) || 1])
    .nice()
    .range([frame.height - margin.bottom, margin.top]);
  const bars = spec.series.filter((s) => s.kind === 'bar');
  const inner = scaleBand<string>()
    .domain(bars.map((s) => s.name))
    .range([0, x.bandwidth()])
    .padding(0.05);
  const centre = (i: number) => x(spec.periods[i]!)! + x.bandwidth() / 2;
  const cls = (s: TrendSeries) => `series-${spec.series.indexOf(s) + 1}`;
  const drawn = spec.series.map((s) => {
    if (s.kind === 'bar')
      return html`<g class="bars ${cls(s)}">${s.values.map((v, i) =>
        v === null || v === 0
          ? ''
          : html`<rect x="${String(x(spec.periods[i]!)! + inner(s.name)!)}" y="${String(y(v))}" width="${String(inner.bandwidth())}"
 height="${String(y(0) - y(v))}"><title>${spec.periods[i]!}: ${spec.format(v)} ${s.name}</title></rect>`,
      )}</g>`;
    const path = line<number | null>()
      .defined((v) => v !== null)
      .x((_, i) => centre(i))
      .y((v) => y(v ?? 0))(s.values);
    return html`<g class="line ${cls(s)}"><path d="${path ?? ''}"></path>${s.values.map((v, i) =>
      v === null
        ? ''
        : html`<circle cx="${String(centre(i))}" cy="${String(y(v))}" r="2.5"><title>${spec.periods[i]!}: ${spec.format(v)} ${s.name}</title></circle>`,
    )}</g>`;
  });
  const every = labelEvery(spec.periods.length);
  const ticks = spec.periods
    .map((p, i) => ({ x: centre(i), label: p.slice(5), i }))
    .filter((t) => (spec.periods.length - 1 - t.i) % every === 0);
  const described = spec.series.map((s) => s.name).join(', ');
  return figure({
    id: spec.id,
    title: spec.title,
    description: `${described} per ${spec.xTitle}; the table below holds the numbers.`,
    frame,
    svgBody: yAxis(y, frame, spec.yTitle, spec.format) + xAxis(frame, ticks, spec.xTitle) + drawn.join(''),
    legend: spec.series.map((s) => ({ cls: cls(s), name: `${s.name} (${s.kind === 'bar' ? 'bars' : 'line'})` })),
    table: {
      caption: `The numbers behind "${spec.title}"`,
      head: [spec.xTitle, ...spec.series.map((s) => s.name)],
      rows: spec.periods.map((p, i) => [
        html`${p}`,
        ...spec.series.map((s) => {
          const v = s.values[i];
          return v === null || v === undefined ? '–' : html`${spec.format(v)}`;
        }),
      ]),
    },
  });
}
