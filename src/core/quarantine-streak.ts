// Quarantined tests that fail in every run since some change: who likely broke them. A quarantined
// test's failures do not stop the line, so its culprit is not searched; the main line's runs that
// failed it since it last passed, and the checks of old prefixes that a likely break sends
// (quarantine-check.ts), are weighed instead. Changes: a quarantined test's `streak`.
// Emits: the culprit, when the runs single one change out past `flaky.confidence`, or else a notice
// naming the likeliest suspects once "every failure was a flake" is unlikelier than that.
import type { StepContext } from './context.ts';
import { notice } from './emit.ts';
import { own } from './own.ts';
import type { ChangeRecord, Run, Streak, StreakSuspect, TestRecord } from './types.ts';
import { latestVerdict, verdict } from './verdicts.ts';

/** The most changes a streak weighs; past them it names suspects but never a culprit. */
export const MAX_STREAK_SUSPECTS = 50;
/** The most suspects a notice lists. */
const NOTICE_SUSPECTS = 10;

/** What the runs of a streak say of each suspect and of "every failure was a flake". */
export interface StreakPosterior {
  /** Per suspect (the streak's order), the chance that it broke the test. */
  suspects: number[];
  /** The chance that no suspect broke it: every failure of the streak was a flake. */
  none: number;
}

/**
 * Weighs a streak of `runs` failures of one test: suspect i was in `covered[i]` of those runs.
 * Under "suspect i broke it", the runs that held it failed for sure and each other run flaked
 * (`flakeRate`); under "none did", every run flaked. Each suspect breaks the test with
 * `culpritRate` beforehand. A suspect in every run is only as likely as the others allow: a
 * change in all but one run is `flakeRate` times as likely, so a very flaky test rarely singles one out.
 */
export function streakPosterior(
  covered: readonly number[],
  runs: number,
  flakeRate: number,
  culpritRate: number,
): StreakPosterior {
  const r = Math.min(Math.max(flakeRate, 1e-12), 1);
  const q = Math.min(Math.max(culpritRate, 1e-9), 1 - 1e-9);
  const logOdds = Math.log(q / (1 - q));
  const logs = covered.map((k) => logOdds + (runs - Math.min(k, runs)) * Math.log(r));
  const noneLog = runs * Math.log(r);
  const max = Math.max(noneLog, ...logs);
  const weights = logs.map((l) => Math.exp(l - max));
  const noneW = Math.exp(noneLog - max);
  const sum = weights.reduce((a, b) => a + b, noneW);
  return { suspects: weights.map((w) => w / sum), none: noneW / sum };
}

/** The streak's suspects as records (a bare id from an older streak was in every run of it). */
function suspectsOf(streak: Streak): StreakSuspect[] {
  return (streak.suspects = streak.suspects.map((s) => (typeof s === 'string' ? { id: s, runs: streak.runs } : s)));
}

/**
 * Whether `run` tested `suspect`: it is among the run's changes, or the run's sha of its project is
 * the suspect's or later in its stream. Past the stream's memory of shas, a change that passed is
 * in every main-line run made after that (its stream's good sha holds it); a check holds only its own.
 */
function holds(ctx: StepContext, run: Run, suspect: StreakSuspect): boolean {
  if (run.changes.includes(suspect.id)) return true;
  const stream = suspect.stream === undefined ? undefined : own(ctx.state.streams, suspect.stream);
  const tested = stream ? run.refs[stream.project] : undefined;
  if (stream && suspect.sha && tested) {
    const at = stream.shas.indexOf(tested);
    const mine = stream.shas.indexOf(suspect.sha);
    if (at >= 0 && mine >= 0) return at >= mine;
  }
  // a check runs an old prefix: made after a suspect passed, it need not hold it
  if (run.kind === 'quarantine-check') return false;
  if (suspect.passedAt === undefined) {
    const v = latestVerdict(ctx, suspect.id);
    if (v?.verdict === 'passed' && !v.retracted) suspect.passedAt = v.at;
  }
  return suspect.passedAt !== undefined && suspect.passedAt <= run.createdAt;
}

/** A quarantined test whose streak a passing run ended: its failures in the streak were flakes. */
export interface EndedStreak {
  id: string;
  flakes: number;
}

/**
 * Follows the quarantined tests' streaks over a main-line run that ended with tests: a run that
 * failed one adds to its streak (its new changes become suspects); a run that passed it clears
 * the suspects it held (a pass is trusted). Returns the streaks that ended, none of their
 * suspects left, that never looked like a break: every failure in them was a flake, for the
 * test's rate to count.
 */
export function followStreaks(
  ctx: StepContext,
  run: Run,
  streaks: { id: string; rec: TestRecord; flakeRate: number }[],
  culpritRate: number,
): EndedStreak[] {
  const failed = new Set(run.tests?.failed ?? []);
  const ended: EndedStreak[] = [];
  for (const { id, rec, flakeRate } of streaks) {
    if (!failed.has(id)) {
      const streak = rec.streak;
      if (!streak) continue;
      streak.suspects = suspectsOf(streak).filter((s) => !holds(ctx, run, s));
      if (streak.suspects.length > 0) continue;
      delete rec.streak;
      // after a blame or a notice the failures looked like a break, undone since (a revert, say)
      if (!streak.named && !streak.noticed) ended.push({ id, flakes: streak.runs });
      continue;
    }
    const streak = (rec.streak ??= { runs: 0, since: run.end, suspects: [] });
    const suspects = suspectsOf(streak);
    streak.runs += 1;
    for (const s of suspects) if (holds(ctx, run, s)) s.runs += 1;
    for (const id of run.changes) {
      if (suspects.some((s) => s.id === id)) continue;
      if (suspects.length >= MAX_STREAK_SUSPECTS) {
        streak.crowded = true;
        continue;
      }
      const change = own(ctx.state.changes, id);
      const project = change && own(ctx.state.streams, change.stream)?.project;
      // what a check of the prefix up to it runs: this run's commits, its project moved back to it
      const refs = project ? { refs: { ...run.refs, [project]: change.sha } } : {};
      suspects.push({ id, runs: 1, ...(change ? { stream: change.stream, sha: change.sha } : {}), ...refs });
    }
    judgeStreak(ctx, id, streak, flakeRate, culpritRate);
  }
  return ended;
}

function judgeStreak(ctx: StepContext, id: string, streak: Streak, flakeRate: number, culpritRate: number): void {
  const { confidence, confirm } = ctx.state.settings;
  if (streak.named || streak.runs < 1 + confirm) return;
  const suspects = suspectsOf(streak);
  const post = streakPosterior(
    suspects.map((s) => s.runs),
    streak.runs,
    flakeRate,
    culpritRate,
  );
  const best = post.suspects.reduce((b, p, i) => (p > (post.suspects[b] ?? -1) ? i : b), 0);
  const change = own(ctx.state.changes, suspects[best]?.id ?? '');
  if (change && !streak.crowded && (post.suspects[best] ?? 0) >= confidence) {
    streak.named = true;
    nameCulprit(ctx, id, streak, change, { chance: post.suspects[best]!, runs: suspects[best]!.runs });
    return;
  }
  if (streak.noticed || post.none > 1 - confidence) return;
  streak.noticed = true;
  const likeliest = suspects
    .map((s, i) => ({ s: s.id, p: post.suspects[i]! }))
    .sort((a, b) => b.p - a.p)
    .slice(0, NOTICE_SUSPECTS)
    .map(({ s, p }) => `${s} (${(p * 100).toFixed(0)}%)`);
  notice(
    ctx,
    'warn',
    'quarantined-test-broken',
    `quarantined test ${id} failed in all ${streak.runs} runs since ${streak.since} merged: it is likely broken, ` +
      `by one of ${likeliest.join(', ')}${streak.crowded ? ' or a change after them' : ''} ` +
      `(not blamed: the runs held them together, and the test flakes too often to tell them apart)`,
  );
}

function nameCulprit(
  ctx: StepContext,
  id: string,
  streak: Streak,
  change: ChangeRecord,
  how: { chance: number; runs: number },
): void {
  const { chance, runs } = how;
  // it passed while the test was quarantined: that verdict is taken back, so one stands
  const passed = latestVerdict(ctx, change.id);
  if (passed) passed.retracted = true;
  ctx.state.stats.culprits += 1;
  verdict(ctx, change.id, 'culprit', {
    culprit: change.id,
    confidence: chance,
    reason: `quarantined test ${id} failed in every run that held ${change.id} since ${streak.since} merged (${runs} runs)`,
    tests: [id],
  });
}
