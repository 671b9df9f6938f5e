// Renders the benchmark chart (runs per change against p90 time to verdict) as SVG with Vega-Lite.
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

export interface ChartPoint {
  system: string;
  baseline: boolean;
  runs_per_change: number;
  ttv_p90: number;
}

const WIDTH = 640;
const HEIGHT = 380;
/** Roughly how wide a character of the 10 px label font is, in pixels. */
const CHAR_PX = 5.6;

interface Placed {
  label: string;
  baseline: boolean;
  align: 'left' | 'right';
  /** The label's anchor in data units (the chart's scales), so that it shares the points' scales. */
  lx: number;
  ly: number;
}

/**
 * Places each label beside its point where it overlaps no other label and no other point: right
 * above, right below, left above, left below, then further out. Greedy, from left to right.
 */
function placeLabels(data: { label: string; baseline: boolean; x: number; y: number }[], xMax: number, yMax: number) {
  const px = (x: number) => (x / xMax) * WIDTH;
  const py = (y: number) => HEIGHT - (y / yMax) * HEIGHT;
  const boxes: [number, number, number, number][] = data.map((d) => [
    px(d.x) - 6,
    py(d.y) - 6,
    px(d.x) + 6,
    py(d.y) + 6,
  ]);
  const overlaps = (b: [number, number, number, number]) =>
    boxes.some((o) => b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]);
  const tries: [number, number][] = [
    [8, -8],
    [8, 10],
    [-8, -8],
    [-8, 10],
    [8, -20],
    [8, 22],
    [-8, -20],
    [-8, 22],
  ];
  const placed: Placed[] = [];
  for (const d of [...data].sort((a, b) => a.x - b.x || b.y - a.y)) {
    const w = d.label.length * CHAR_PX;
    const box = ([dx, dy]: [number, number]): [number, number, number, number] => {
      const left = dx > 0 ? px(d.x) + dx : px(d.x) + dx - w;
      return [left, py(d.y) + dy - 6, left + w, py(d.y) + dy + 6];
    };
    const free = tries.find((t) => !overlaps(box(t))) ?? tries[0]!;
    boxes.push(box(free));
    placed.push({
      label: d.label,
      baseline: d.baseline,
      align: free[0] > 0 ? 'left' : 'right',
      lx: ((px(d.x) + free[0]) / WIDTH) * xMax,
      ly: ((HEIGHT - py(d.y) - free[1]) / HEIGHT) * yMax,
    });
  }
  return placed;
}

export async function renderChart(points: ChartPoint[], floor: number): Promise<string> {
  // labels stop at the first colon: "ost-gate frugal: bisect, ..." is shown as "ost-gate frugal"
  const data = points.map((p) => ({
    ...p,
    label: p.system.split(':')[0]!,
    kind: p.baseline ? 'baseline' : 'ost-gate',
  }));
  // fixed domains, so that label positions computed in pixels map back to data units exactly
  const xMax = Math.ceil((Math.max(...data.map((d) => d.runs_per_change)) * 1.05) / 0.1) * 0.1;
  const yMax = Math.ceil((Math.max(...data.map((d) => d.ttv_p90)) * 1.05) / 0.5) * 0.5;
  const labels = placeLabels(
    data.map((d) => ({ label: d.label, baseline: d.baseline, x: d.runs_per_change, y: d.ttv_p90 })),
    xMax,
    yMax,
  );
  const x = { type: 'quantitative' as const, scale: { domain: [0, xMax], nice: false } };
  const y = { type: 'quantitative' as const, scale: { domain: [0, yMax], nice: false } };
  const textLayer = (align: 'left' | 'right', baseline: boolean) => ({
    data: { values: labels.filter((l) => l.align === align && l.baseline === baseline) },
    mark: {
      type: 'text' as const,
      align,
      baseline: 'middle' as const,
      fontSize: 10,
      ...(baseline ? { fontStyle: 'italic' } : {}),
    },
    encoding: {
      x: { field: 'lx', ...x },
      y: { field: 'ly', ...y },
      text: { field: 'label', type: 'nominal' as const },
    },
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'Reference point: p = 0.03, f = 0.05, k = 4, 1.5 changes per T',
      subtitle: `lower left is better; the floor is ${floor.toFixed(3)} runs per change`,
    },
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    layer: [
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 120 },
        encoding: {
          x: { field: 'runs_per_change', title: 'runs per change', ...x },
          y: { field: 'ttv_p90', title: 'p90 time to verdict (T)', ...y },
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
      // ost-gate labels upright, baseline labels in italics, each where it overlaps nothing
      textLayer('left', false),
      textLayer('right', false),
      textLayer('left', true),
      textLayer('right', true),
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
