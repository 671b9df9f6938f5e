// Per-day health figures of a queue, kept in its file for a year (bounded) so that the dashboard can
// show the last 7 days and the trends page a year: runs, verdicts, time to verdict (as a fixed
// histogram), failures, flakes, culprits, changes merged and the queue's deepest point.
import type { Effect, QueueState, QueueStats } from '../core/index.ts';
import type { DayHealth } from '../store/types.ts';

export type { DayHealth };

/** A year and a day: the trends page's longest span, whatever day of the week it starts. */
export const DAYS_KEPT = 366;
/** Upper edges of the time-to-verdict buckets, in minutes; fixed so that a day's figures stay small. */
export const TTV_EDGES_MIN = [1, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080, 1440, 2160, 2880, 4320];
const DAY_MS = 86_400_000;

function bucketOf(ms: number): number {
  const min = ms / 60_000;
  const i = TTV_EDGES_MIN.findIndex((edge) => min <= edge);
  return i < 0 ? TTV_EDGES_MIN.length : i;
}

export function dayOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** What recordHealth compares a step's result with: the stats and change counter before it. */
export interface HealthBefore {
  stats: QueueStats;
  /** The state's `seq` before the step: a change numbered above it entered the queue in the step. */
  seq: number;
}

function emptyDay(day: string): DayHealth {
  return {
    day,
    runs: 0,
    verdicts: 0,
    failures: 0,
    flakes: 0,
    culprits: 0,
    merged: 0,
    depth: 0,
    ttv: new Array<number>(TTV_EDGES_MIN.length + 1).fill(0),
  };
}

/** Adds what one step did to its day's figures; returns the days, the oldest dropped past DAYS_KEPT. */
export function recordHealth(
  days: DayHealth[],
  before: HealthBefore,
  after: QueueState,
  effects: Effect[],
  at: number,
): DayHealth[] {
  const day = dayOf(at);
  let bucket = days.find((d) => d.day === day);
  if (!bucket) {
    bucket = emptyDay(day);
    days = [...days, bucket].sort((a, b) => a.day.localeCompare(b.day)).slice(-DAYS_KEPT);
  }
  bucket.flakes += Math.max(0, after.stats.flakes - before.stats.flakes);
  bucket.failures += Math.max(0, after.stats.runsFailed - before.stats.runsFailed);
  let depth = 0;
  for (const c of Object.values(after.changes)) {
    if (c.state !== 'done') depth += 1;
    if (c.seq > before.seq) bucket.merged = (bucket.merged ?? 0) + 1;
  }
  bucket.depth = Math.max(bucket.depth ?? 0, depth);
  for (const e of effects) {
    // a try of an open change is no run of the queue's changes
    if (e.type === 'dispatch' && e.run.kind !== 'try') bucket.runs += 1;
    if (e.type === 'report' && !e.verdict.retracted) {
      bucket.verdicts += 1;
      if (e.verdict.verdict === 'culprit') bucket.culprits += 1;
      const change = after.changes[e.change];
      if (change) bucket.ttv[bucketOf(Math.max(0, e.verdict.at - (change.mergedAt ?? change.enqueuedAt)))]! += 1;
    }
  }
  return days;
}

/** Several days' figures taken together. */
export interface HealthSummary {
  runsPerChange: number | null;
  ttvMedianMs: number | null;
  ttvP90Ms: number | null;
  /** Of the failures, the share that were flakes. */
  flakeShare: number | null;
  /** Flaky failures per run dispatched. */
  flakeRate: number | null;
  culprits: number;
  verdicts: number;
  runs: number;
  failures: number;
  flakes: number;
  merged: number;
  /** The deepest the queue was on any of the days (changes waiting for a verdict). */
  depth: number;
}

/** The upper edge (ms) of the bucket where the cumulative count reaches `q`; beyond the last edge, that edge. */
function quantile(counts: number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc >= q * total) return (TTV_EDGES_MIN[Math.min(i, TTV_EDGES_MIN.length - 1)] ?? 0) * 60_000;
  }
  return TTV_EDGES_MIN.at(-1)! * 60_000;
}

/** The figures of `days` taken together (any days: a week, a month, the last seven). */
export function sumDays(days: DayHealth[]): HealthSummary {
  const sum = (k: 'runs' | 'verdicts' | 'failures' | 'flakes' | 'culprits' | 'merged') =>
    days.reduce((a, d) => a + (d[k] ?? 0), 0);
  const ttv = new Array<number>(TTV_EDGES_MIN.length + 1).fill(0);
  for (const d of days) d.ttv.forEach((n, i) => (ttv[i]! += n));
  const [runs, verdicts, failures, flakes] = [sum('runs'), sum('verdicts'), sum('failures'), sum('flakes')];
  return {
    runsPerChange: verdicts ? runs / verdicts : null,
    ttvMedianMs: quantile(ttv, 0.5),
    ttvP90Ms: quantile(ttv, 0.9),
    flakeShare: failures ? flakes / failures : null,
    flakeRate: runs ? flakes / runs : null,
    culprits: sum('culprits'),
    verdicts,
    runs,
    failures,
    flakes,
    merged: sum('merged'),
    depth: days.reduce((a, d) => Math.max(a, d.depth ?? 0), 0),
  };
}

/** The last `n` days (today included) summed. */
export function summarise(days: DayHealth[], now: number, n = 7): HealthSummary {
  const since = dayOf(now - (n - 1) * DAY_MS);
  return sumDays(days.filter((d) => d.day >= since));
}

/** Reverts opened on one day (revert/plan.ts reads them for `revert.daily_limit`). */
export interface RevertDay {
  day: string;
  count: number;
}

/** `days` with `count` more reverts opened on the day of `at`; only the last three days are kept. */
export function withOpened(days: readonly RevertDay[], at: number, count: number): RevertDay[] {
  if (count === 0) return [...days];
  const day = dayOf(at);
  const today = (days.find((d) => d.day === day)?.count ?? 0) + count;
  return [...days.filter((d) => d.day !== day), { day, count: today }]
    .sort((a, b) => a.day.localeCompare(b.day))
    .slice(-3);
}
