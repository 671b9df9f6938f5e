// The run timeline of a queue page: the last day's runs on a time axis (d3-scale's UTC scale), one
// lane per runner slot, each run a bar from dispatch to result coloured and marked by its outcome,
// labelled with its kind and the last change of its prefix, linking to its log; verdicts as marks.
import html from 'html-template-tag';
import { scaleUtc } from 'd3-scale';
import { MAIN } from '../../../core/lines.ts';
import { outsideLines } from '../../../core/runs.ts';
import type { Run, RunKind, VerdictRecord } from '../../../core/index.ts';
import type { QueueView } from '../../../store/types.ts';
import { logKeptHere, type ChangeLabeler } from '../../../report/model.ts';
import { changeLabel, changeLink, duration, runLinks, runLogPath, time } from '../format.ts';
import { externalHref } from '../../../report/html.ts';
import { badge } from '../layout.ts';
import { figure, svgLine, svgText, xAxis, type Frame } from './frame.ts';

/** How far back the timeline reaches. */
export const TIMELINE_MS = 24 * 3_600_000;
const LANE = 30;
const AXIS = 48;
const VERDICTS_SHOWN = 30;

export type RunOutcome = 'running' | 'passed' | 'failed' | 'flake' | 'error' | 'cancelled';

const OUTCOME_WORDS: Record<RunOutcome, { mark: string; words: string }> = {
  running: { mark: '…', words: 'running' },
  passed: { mark: '✓', words: 'passed' },
  failed: { mark: '✗', words: 'failed' },
  flake: { mark: '~', words: 'failed, a flake' },
  error: { mark: '!', words: 'no result (infra error or timeout)' },
  cancelled: { mark: '–', words: 'cancelled' },
};

export function runOutcome(run: Run): RunOutcome {
  switch (run.state) {
    case 'dispatched':
    case 'running':
      return 'running';
    case 'failed':
      return run.flake ? 'flake' : 'failed';
    case 'error':
    case 'timed-out':
      return 'error';
    default:
      return run.state;
  }
}

/** Each run kind in the words of the dashboard. */
const PURPOSES: Readonly<Record<RunKind, string>> = {
  batch: 'batch',
  probe: 'probe',
  confirm: 'confirmation',
  retry: 'retry',
  check: 'tip check',
  try: 'try',
  'quarantine-check': 'quarantined test check',
};

/** What a run was for, in the words of the dashboard: a line's run off the main line is a fix line's. */
export function runPurpose(run: Run): string {
  return !outsideLines(run) && run.line !== MAIN ? 'fix line' : PURPOSES[run.kind];
}

interface Placed {
  run: Run;
  from: number;
  to: number;
  lane: number;
}

/** The runs of the last day, oldest first, each in the first lane free when it was dispatched. */
export function placeRuns(runs: Run[], now: number): Placed[] {
  const since = now - TIMELINE_MS;
  const laneEnds: number[] = [];
  return runs
    .map((run) => {
      const from = run.createdAt;
      const to = runOutcome(run) === 'running' ? now : Math.max(from, run.finishedAt ?? from);
      return { run, from, to, lane: 0 };
    })
    .filter((p) => p.to >= since)
    .sort((a, b) => a.from - b.from || a.run.createdAt - b.run.createdAt)
    .map((p) => {
      let lane = laneEnds.findIndex((end) => end <= p.from);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = p.to;
      return { ...p, lane };
    });
}

/** A small triangle pointing up, its tip at (x, y): a verdict's mark on the axis. */
function triangle(x: number, y: number): string {
  return `M${x} ${y} l5 8 h-10 z`;
}

/** Where a run's bar links: the log kept here for a command runner, else its CI page. */
function logHref(run: Run, provider: string | undefined): string | null {
  if (logKeptHere(run, provider)) return runLogPath(run.key);
  return run.url ? externalHref(run.url) : null;
}

export function runTimeline(file: QueueView, now: number, labelOf: ChangeLabeler): string {
  const s = file.state;
  const provider = file.ci?.provider;
  const placed = placeRuns(Object.values(s.runs), now);
  if (placed.length === 0) return '';
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const lanes = Math.max(s.settings.maxParallel, ...placed.map((p) => p.lane + 1));
  const frame: Frame = {
    width: 960,
    height: 16 + lanes * LANE + AXIS,
    margin: { top: 16, right: 16, bottom: AXIS, left: 76 },
  };
  const start = Math.max(now - TIMELINE_MS, Math.min(...placed.map((p) => p.from)));
  // up to now while runs are in flight; else up to the last thing that happened, a little after it
  const last = Math.max(...placed.map((p) => p.to), ...s.verdicts.filter((v) => v.at >= start).map((v) => v.at));
  const end = placed.some((p) => runOutcome(p.run) === 'running') ? now : Math.min(now, last + (last - start) / 20);
  const x = scaleUtc()
    .domain([new Date(Math.min(start, end - 10_000)), new Date(end)])
    .range([frame.margin.left, frame.width - frame.margin.right]);
  const laneY = (lane: number) => frame.margin.top + lane * LANE;
  const bottom = frame.margin.top + lanes * LANE;
  const bars = placed.map(({ run, from, to, lane }) => {
    const outcome = runOutcome(run);
    const what = `${runPurpose(run)} ${ref(run.end).short}`;
    const said = `${what}: ${OUTCOME_WORDS[outcome].words}, ${time(from)} for ${duration(to - from)}`;
    const left = x(new Date(Math.max(from, start)));
    const width = Math.max(3, x(new Date(to)) - left);
    // the longest label the bar can hold (about 6.5 units a character): kind and change, kind, nothing
    const label = [`${OUTCOME_WORDS[outcome].mark} ${what}`, `${OUTCOME_WORDS[outcome].mark} ${runPurpose(run)}`].find(
      (l) => width >= l.length * 6.5 + 6,
    );
    const text = label
      ? html`<text x="${String(left + 4)}" y="${String(laneY(lane) + LANE / 2)}" dominant-baseline="middle">${label}</text>`
      : '';
    const bar = html`<rect class="run-bar outcome-${outcome}" data-run="${run.key}" data-outcome="${outcome}"
 x="${String(left)}" y="${String(laneY(lane) + 3)}" width="${String(width)}" height="${String(LANE - 6)}"><title>${said}</title></rect>$${text}`;
    const href = logHref(run, provider);
    return href ? html`<a href="$${href}" aria-label="${said}">$${bar}</a>` : html`<g>$${bar}</g>`;
  });
  const verdicts = s.verdicts.filter((v) => v.at >= start && v.at <= end).slice(-VERDICTS_SHOWN);
  const marks = verdicts.map((v: VerdictRecord) => {
    const at = x(new Date(v.at));
    const line = svgLine('mark-line', { x1: at, x2: at, y1: frame.margin.top, y2: bottom + 6 });
    const said = `${v.verdict} ${ref(v.change).short} at ${time(v.at)}`;
    return html`<g class="verdict-mark verdict-${v.verdict}">$${line}<path d="${triangle(at, bottom + 2)}"><title>${said}</title></path></g>`;
  });
  const laneNames = Array.from({ length: lanes }, (_, i) =>
    svgText(`runner ${i + 1}`, { x: frame.margin.left - 8, y: laneY(i) + LANE / 2 }, { anchor: 'end', middle: true }),
  );
  const span = end - start;
  const format = x.tickFormat(8, span < 120_000 ? '%H:%M:%S' : span < 2 * 86_400_000 ? '%H:%M' : '%m-%d %H:%M');
  const ticks = x.ticks(8).map((t) => ({ x: x(t), label: format(t) }));
  const axis = xAxis(frame, ticks, 'time (UTC)', bottom + 12);
  const outcomes = [...new Set(placed.map((p) => runOutcome(p.run)))];
  return figure({
    id: 'timeline',
    title: 'Run timeline',
    description:
      `${placed.length} run(s) of the last day, one lane per runner, each a bar from dispatch to result; ` +
      'triangles mark verdicts. The table below lists them.',
    frame,
    role: 'group',
    svgBody: laneNames.join('') + axis + bars.join('') + marks.join(''),
    legend: [
      ...outcomes.map((o) => ({ cls: `outcome-${o}`, name: `${OUTCOME_WORDS[o].mark} ${OUTCOME_WORDS[o].words}` })),
      ...(verdicts.length ? [{ cls: 'verdict-swatch', name: '▲ a verdict' }] : []),
    ],
    table: {
      caption: 'The runs on the timeline, newest first',
      head: ['run', 'kind', 'prefix up to', 'runner', 'dispatched', 'took', 'outcome', 'links'],
      rows: [...placed]
        .reverse()
        .map(({ run, from, to, lane }) => [
          html`${run.key}`,
          html`${runPurpose(run)}`,
          changeLink(ref(run.end), run.end),
          html`${String(lane + 1)}`,
          html`${time(from)}`,
          html`${duration(to - from)}`,
          badge(runOutcome(run) === 'error' ? 'error' : run.state, OUTCOME_WORDS[runOutcome(run)].words),
          runLinks(run, run.target ?? provider) || '–',
        ]),
    },
  });
}
