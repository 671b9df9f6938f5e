// Per-day health figures of a queue, kept in its file (8 days) so that the dashboard can show the
// last 7 days: runs, verdicts, time to verdict (as a fixed histogram), failures, flakes, culprits.
import type { Effect, QueueState, QueueStats } from '../core/index.ts';
import type { DayHealth } from '../store/types.ts';

export type { DayHealth };

const DAYS_KEPT = 8;
/** Upper edges of the time-to-verdict buckets, in minutes; fixed so that a day's figures stay small. */
export const TTV_EDGES_MIN = [1, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080, 1440, 2160, 2880, 4320];

function bucketOf(ms: number): number {
  const min = ms / 60_000;
  const i = TTV_EDGES_MIN.findIndex((edge) => min <= edge);
  return i < 0 ? TTV_EDGES_MIN.length : i;
}

export function dayOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Adds what one step did to today's bucket. */
export function recordHealth(
  days: DayHealth[],
  before: QueueStats,
  after: QueueState,
  effects: Effect[],
  at: number,
): DayHealth[] {
  const day = dayOf(at);
  let bucket = days.find((d) => d.day === day);
  if (!bucket) {
    bucket = {
      day,
      runs: 0,
      verdicts: 0,
      failures: 0,
      flakes: 0,
      culprits: 0,
      ttv: new Array<number>(TTV_EDGES_MIN.length + 1).fill(0),
    };
    days = [...days, bucket].sort((a, b) => a.day.localeCompare(b.day)).slice(-DAYS_KEPT);
  }
  bucket.flakes += Math.max(0, after.stats.flakes - before.flakes);
  bucket.failures += Math.max(0, after.stats.runsFailed - before.runsFailed);
  for (const e of effects) {
    if (e.type === 'dispatch') bucket.runs += 1;
    if (e.type === 'report' && !e.verdict.retracted) {
      bucket.verdicts += 1;
      if (e.verdict.verdict === 'culprit') bucket.culprits += 1;
      const change = after.changes[e.change];
      if (change) bucket.ttv[bucketOf(Math.max(0, e.verdict.at - (change.mergedAt ?? change.enqueuedAt)))]! += 1;
    }
  }
  return days;
}

export interface HealthSummary {
  runsPerChange: number | null;
  ttvMedianMs: number | null;
  ttvP90Ms: number | null;
  flakeShare: number | null;
  culprits: number;
  verdicts: number;
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

/** The last `n` days (today included) summed. */
export function summarise(days: DayHealth[], now: number, n = 7): HealthSummary {
  const since = dayOf(now - (n - 1) * 86_400_000);
  const recent = days.filter((d) => d.day >= since);
  const sum = (k: 'runs' | 'verdicts' | 'failures' | 'flakes' | 'culprits') => recent.reduce((a, d) => a + d[k], 0);
  const ttv = new Array<number>(TTV_EDGES_MIN.length + 1).fill(0);
  for (const d of recent) d.ttv.forEach((n, i) => (ttv[i]! += n));
  const verdicts = sum('verdicts');
  const failures = sum('failures');
  return {
    runsPerChange: verdicts ? sum('runs') / verdicts : null,
    ttvMedianMs: quantile(ttv, 0.5),
    ttvP90Ms: quantile(ttv, 0.9),
    flakeShare: failures ? sum('flakes') / failures : null,
    culprits: sum('culprits'),
    verdicts,
  };
}
