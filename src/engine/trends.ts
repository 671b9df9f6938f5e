// A queue's figures over a span, per day or per week, from the per-day health it keeps (health.ts):
// what the trends page draws.
import { dayOf, sumDays, type DayHealth, type HealthSummary } from './health.ts';

const DAY_MS = 86_400_000;

/** The spans the trends page offers: a week and a month per day, a year per week. */
export const SPANS = {
  '7d': { days: 7, per: 'day' },
  '30d': { days: 30, per: 'day' },
  '1y': { days: 364, per: 'week' },
} as const;
export type SpanName = keyof typeof SPANS;
export const DEFAULT_SPAN: SpanName = '30d';

export function isSpan(name: string): name is SpanName {
  return Object.hasOwn(SPANS, name);
}

/** One day or week: when it starts (UTC midnight, ms) and its figures taken together. */
export interface TrendPeriod extends HealthSummary {
  start: number;
  /** `2026-11-24`, or for a week the day it starts on. */
  label: string;
  /** How many of its days have figures (0: the queue did nothing, or did not exist yet). */
  days: number;
}

/** Monday 00:00 UTC of the week holding `at`. */
function weekStart(at: number): number {
  const day = Math.floor(at / DAY_MS) * DAY_MS;
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  return day - weekday * DAY_MS;
}

/**
 * The periods of `span` ending with the one holding `now`, oldest first, each with its days' figures
 * (a period with no recorded day has zeros and no rates).
 */
export function trendPeriods(days: DayHealth[], now: number, span: SpanName): TrendPeriod[] {
  const { days: length, per } = SPANS[span];
  const step = per === 'day' ? DAY_MS : 7 * DAY_MS;
  const last = per === 'day' ? Math.floor(now / DAY_MS) * DAY_MS : weekStart(now);
  const count = per === 'day' ? length : length / 7;
  const byDay = new Map(days.map((d) => [d.day, d]));
  const periods: TrendPeriod[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const start = last - i * step;
    const inside: DayHealth[] = [];
    for (let at = start; at < start + step; at += DAY_MS) {
      const d = byDay.get(dayOf(at));
      if (d) inside.push(d);
    }
    periods.push({ start, label: dayOf(start), days: inside.length, ...sumDays(inside) });
  }
  return periods;
}
