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

/** A streak's suspects, each with its chance to have broken the test (`streakPosterior`), and "none did". */
export function weighStreak(
  streak: Streak,
  rates: { flakeRate: number; culpritRate: number },
): { suspects: { suspect: StreakSuspect; chance: number }[]; none: number } {
  const suspects = suspectsOf(streak);
  const post = streakPosterior(
    suspects.map((s) => s.runs),
    streak.runs,
    rates.flakeRate,
    rates.culpritRate,
  );
  return { suspects: suspects.map((suspect, i) => ({ suspect, chance: post.suspects[i]! })), none: post.none };
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
    if (v?.verdict === 'passed' && !v.retracted && !v.provisional) suspect.passedAt = v.at;
  }
  return suspect.passedAt !== undefined && suspect.passedAt <= run.createdAt;
}

/**
 * Follows the quarantined tests' streaks over a main-line run or a quarantine check that ended
 * with tests: a run that failed one adds to its streak (its new changes become suspects); a run
 * that passed it clears the suspects it held (a pass is trusted). A streak left without suspects
 * ends, and unless it looked like a break its failures were flakes: they count toward the test's
 * rate, which would otherwise fall with every run the test fails.
 */
export function followStreaks(
  ctx: StepContext,
  run: Run,
  streaks: { id: string; rec: TestRecord; flakeRate: number }[],
  culpritRate: number,
): void {
  const failed = new Set(run.tests?.failed ?? []);
  for (const { id, rec, flakeRate } of streaks) {
    if (!failed.has(id)) {
      const streak = rec.streak;
      if (!streak) continue;
      streak.suspects = suspectsOf(streak).filter((s) => !holds(ctx, run, s));
      if (streak.suspects.length > 0) continue;
      delete rec.streak;
      // after a blame or a notice the failures looked like a break, undone since (a revert, say)
      if (!streak.named && !streak.noticed) rec.flakes += streak.runs;
      continue;
    }
    const streak = (rec.streak ??= { runs: 0, since: run.end, suspects: [] });
    const suspects = suspectsOf(streak);
    streak.runs += 1;
    for (const s of suspects) if (holds(ctx, run, s)) s.runs += 1;
    for (const changeId of run.changes) {
      if (suspects.some((s) => s.id === changeId)) continue;
      if (suspects.length >= MAX_STREAK_SUSPECTS) streak.crowded = true;
      else suspects.push(newSuspect(ctx, run, changeId));
    }
    judgeStreak(ctx, id, streak, flakeRate, culpritRate);
  }
}

/** A change `run` held, as a suspect: where it is, and what a check of the commits up to it runs. */
function newSuspect(ctx: StepContext, run: Run, id: string): StreakSuspect {
  const change = own(ctx.state.changes, id);
  const project = change && own(ctx.state.streams, change.stream)?.project;
  if (!change || !project) return { id, runs: 1 };
  // this run's commits, the change's project moved back to it
  return { id, runs: 1, stream: change.stream, sha: change.sha, refs: { ...run.refs, [project]: change.sha } };
}

function judgeStreak(ctx: StepContext, id: string, streak: Streak, flakeRate: number, culpritRate: number): void {
  const { confidence, confirm } = ctx.state.settings;
  if (streak.named || streak.runs < 1 + confirm) return;
  const weighed = weighStreak(streak, { flakeRate, culpritRate });
  const byChance = [...weighed.suspects].sort((a, b) => b.chance - a.chance);
  const best = byChance[0];
  const change = best && own(ctx.state.changes, best.suspect.id);
  if (change && !streak.crowded && best.chance >= confidence) {
    streak.named = true;
    nameCulprit(ctx, id, streak, change, { chance: best.chance, runs: best.suspect.runs });
    return;
  }
  if (streak.noticed || weighed.none > 1 - confidence) return;
  streak.noticed = true;
  const likeliest = byChance
    .slice(0, NOTICE_SUSPECTS)
    .map(({ suspect, chance }) => `${suspect.id} (${(chance * 100).toFixed(0)}%)`);
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
  // it passed while the test was quarantined: the verdict takes that pass back
  ctx.state.stats.culprits += 1;
  verdict(ctx, change.id, 'culprit', {
    culprit: change.id,
    confidence: chance,
    reason: `quarantined test ${id} failed in every run that held ${change.id} since ${streak.since} merged (${runs} runs)`,
    tests: [id],
  });
}
