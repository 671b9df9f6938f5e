// What every chart shares: a figure with its heading, an SVG with a title for screen readers, axes
// drawn from d3 scales, a legend that names each colour, and the numbers as a table beneath.
import html from 'html-template-tag';
import type { ScaleLinear } from 'd3-scale';

/** The drawing area of a chart, in the SVG's own units (it scales to the page's width). */
export interface Frame {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
}

export const TREND_FRAME: Frame = { width: 720, height: 240, margin: { top: 12, right: 16, bottom: 44, left: 72 } };

/** One coloured thing a legend names: a CSS class that colours it, and its words. */
export interface LegendEntry {
  cls: string;
  name: string;
}

/** A table of the numbers a chart draws, for screen readers and copy-paste. */
export interface ChartTable {
  caption: string;
  head: string[];
  /** Cells as HTML (escaped by the caller). */
  rows: string[][];
}

/** The chart's figure: heading, SVG, legend and table, with ids derived from `id`. */
export function figure(parts: {
  id: string;
  title: string;
  description: string;
  frame: Frame;
  svgBody: string;
  legend: LegendEntry[];
  table: ChartTable;
  /** `group` when the drawing holds links (an image may not hold anything one can act on). */
  role?: 'img' | 'group';
}): string {
  const { id, title, description, frame, svgBody, legend, table, role = 'img' } = parts;
  return html`<section class="chart" id="${id}" aria-labelledby="${id}-h">
<h2 id="${id}-h">${title}</h2>
<svg viewBox="0 0 ${String(frame.width)} ${String(frame.height)}" role="${role}" aria-labelledby="${id}-t ${id}-d"
 preserveAspectRatio="xMinYMin meet"><title id="${id}-t">${title}</title><desc id="${id}-d">${description}</desc>
$${svgBody}</svg>
$${legendList(legend)}
<div class="table"><table><caption>${table.caption}</caption>
<thead><tr>${table.head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${table.rows.map((r) => html`<tr>${r.map((c) => html`<td>$${c}</td>`)}</tr>`)}</tbody></table></div>
</section>`;
}

export function legendList(entries: LegendEntry[]): string {
  if (entries.length === 0) return '';
  return html`<ul class="legend">${entries.map(
    (e) => html`<li><span class="swatch ${e.cls}" aria-hidden="true"></span>${e.name}</li>`,
  )}</ul>`;
}

/** The y axis of `y` at the frame's left, with grid lines, tick labels and the axis title (its unit). */
export function yAxis(
  y: ScaleLinear<number, number>,
  frame: Frame,
  title: string,
  format: (v: number) => string,
): string {
  const left = frame.margin.left;
  const right = frame.width - frame.margin.right;
  const ticks = y.ticks(5);
  const middle = (y.range()[0]! + y.range()[1]!) / 2;
  return html`<g class="axis y-axis">${ticks.map(
    (
      t,
    ) => html`<line class="grid" x1="${String(left)}" x2="${String(right)}" y1="${String(y(t))}" y2="${String(y(t))}"></line>
<text x="${String(left - 6)}" y="${String(y(t))}" text-anchor="end" dominant-baseline="middle">${format(t)}</text>`,
  )}<text class="axis-title" transform="translate(14 ${String(middle)}) rotate(-90)" text-anchor="middle">${title}</text></g>`;
}

/** A line from (x1, y1) to (x2, y2) with a CSS class. */
export function svgLine(cls: string, at: { x1: number; x2: number; y1: number; y2: number }): string {
  return html`<line class="${cls}" x1="${String(at.x1)}" x2="${String(at.x2)}" y1="${String(at.y1)}" y2="${String(at.y2)}"></line>`;
}

/** Words at (x, y), anchored at their start, middle or end, centred on y when `middle`. */
export function svgText(words: string, at: { x: number; y: number }, opts: { anchor?: string; middle?: boolean } = {}) {
  const baseline = opts.middle ? html` dominant-baseline="middle"` : '';
  return html`<text x="${String(at.x)}" y="${String(at.y)}" text-anchor="${opts.anchor ?? 'start'}"$${baseline}>${words}</text>`;
}

/**
 * An x axis: its line at `y` (by default the frame's bottom margin), a label under each tick, and its
 * title (with the unit) under the labels at the right end.
 */
export function xAxis(frame: Frame, ticks: { x: number; label: string }[], title: string, y?: number): string {
  const at = y ?? frame.height - frame.margin.bottom;
  const right = frame.width - frame.margin.right;
  return html`<g class="axis x-axis">$${svgLine('axis-line', { x1: frame.margin.left, x2: right, y1: at, y2: at })}${ticks.map(
    (t) => html`$${svgText(t.label, { x: t.x, y: at + 14 }, { anchor: 'middle' })}`,
  )}<text class="axis-title" x="${String(right)}" y="${String(at + 30)}" text-anchor="end">${title}</text></g>`;
}
