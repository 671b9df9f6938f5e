// Renders the benchmark chart (runs per change against p90 time to verdict) as SVG with Vega-Lite.
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

export interface ChartPoint {
  system: string;
  baseline: boolean;
  runs_per_change: number;
  ttv_p90: number;
}

export async function renderChart(points: ChartPoint[], floor: number): Promise<string> {
  // labels stop at the first colon: "ost-gate frugal: bisect, ..." is shown as "ost-gate frugal"
  const data = points.map((p) => ({ ...p, label: p.system.split(':')[0], kind: p.baseline ? 'baseline' : 'ost-gate' }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'Reference point: p = 0.03, f = 0.05, k = 4, 1.5 changes per T',
      subtitle: `lower left is better; the floor is ${floor.toFixed(3)} runs per change`,
    },
    width: 640,
    height: 380,
    background: 'white',
    layer: [
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 120 },
        encoding: {
          x: { field: 'runs_per_change', type: 'quantitative', title: 'runs per change', scale: { zero: true } },
          y: { field: 'ttv_p90', type: 'quantitative', title: 'p90 time to verdict (T)', scale: { zero: true } },
          color: {
            field: 'kind',
            type: 'nominal',
            title: null,
            scale: { domain: ['ost-gate', 'baseline'], range: ['#1f77b4', '#d62728'] },
          },
          shape: {
            field: 'kind',
            type: 'nominal',
            title: null,
            scale: { domain: ['ost-gate', 'baseline'], range: ['circle', 'square'] },
          },
        },
      },
      // ost-gate labels above their points, baseline labels below, so that neighbours do not overlap
      {
        data: { values: data.filter((d) => !d.baseline) },
        mark: { type: 'text', align: 'left', dx: 8, dy: -7, fontSize: 10 },
        encoding: {
          x: { field: 'runs_per_change', type: 'quantitative' },
          y: { field: 'ttv_p90', type: 'quantitative' },
          text: { field: 'label', type: 'nominal' },
        },
      },
      {
        data: { values: data.filter((d) => d.baseline) },
        mark: { type: 'text', align: 'left', dx: 8, dy: 12, fontSize: 10, fontStyle: 'italic' },
        encoding: {
          x: { field: 'runs_per_change', type: 'quantitative' },
          y: { field: 'ttv_p90', type: 'quantitative' },
          text: { field: 'label', type: 'nominal' },
        },
      },
      {
        data: { values: [{ floor }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { x: { field: 'floor', type: 'quantitative' } },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
