// Per-day health figures of a queue, kept in its file (8 days) so that the dashboard can show the
// last 7 days: runs, verdicts, time to verdict, failures, flakes, culprits.
import type { Effect, QueueState, QueueStats } from '../core/index.ts';

export interface DayHealth {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  runs: number;
  verdicts: number;
  failures: number;
  flakes: number;
  culprits: number;
  /** Time from merge to verdict, ms (at most TTV_SAMPLES a day). */
  ttv: number[];
}

const DAYS_KEPT = 8;
const TTV_SAMPLES = 1000;

export function dayOf(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** Adds what one step did to today's bucket. */
export function recordHealth(days: DayHealth[], before: QueueStats, after: QueueState, effects: Effect[], at: number): DayHealth[] {
  const day = dayOf(at);
  let bucket = days.find((d) => d.day === day);
  if (!bucket) {
    bucket = { day, runs: 0, verdicts: 0, failures: 0, flakes: 0, culprits: 0, ttv: [] };
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
      if (change && bucket.ttv.length < TTV_SAMPLES) bucket.ttv.push(Math.max(0, e.verdict.at - (change.mergedAt ?? change.enqueuedAt)));
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

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The last `n` days (today included) summed. */
export function summarise(days: DayHealth[], now: number, n = 7): HealthSummary {
  const since = dayOf(now - (n - 1) * 86_400_000);
  const recent = days.filter((d) => d.day >= since);
  const sum = (k: 'runs' | 'verdicts' | 'failures' | 'flakes' | 'culprits') => recent.reduce((a, d) => a + d[k], 0);
  const ttv = recent.flatMap((d) => d.ttv).sort((a, b) => a - b);
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
