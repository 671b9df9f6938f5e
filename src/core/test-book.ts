// The test book: what the queue knows of each test its CI reports, for culprits per failing test.
// Changes: `state.testBook` (per-test failures and flakes, quarantine), a run's `tests`, `flakyTests`
// and `quarantined`. Emits: notices when a test enters or leaves quarantine (what a quarantined
// test that keeps failing says of its culprit is in quarantine-streak.ts).
import type { StepContext } from './context.ts';
import { notice } from './emit.ts';
import { own } from './own.ts';
import type { QueueState, Run, RunTests, StreamState, TestBook } from './types.ts';
import { namesChange } from './blocked-at-once.ts';
import { followStreaks } from './quarantine-streak.ts';
import { estimatedRates } from './lines.ts';

/** The most failing test ids a run keeps (sorted; the count says how many there were). */
export const MAX_RUN_FAILURES = 50;
/** The most tests the book keeps; the ones that failed longest ago go first (never a quarantined one). */
export const MAX_BOOK_TESTS = 2000;
/** The longest test id kept; longer ones are cut. */
export const MAX_TEST_ID = 300;
/**
 * How many runs the queue's flake rate counts for, as the prior of a test's own rate: a test with
 * little history is as flaky as the queue; after many runs without a flake it is far less.
 */
const PRIOR_RUNS = 20;
/** A test is quarantined only once it has flaked at least this often (not on the prior alone). */
const QUARANTINE_MIN_FLAKES = 3;
/** It leaves quarantine when its rate falls below this share of the threshold (no flapping). */
const RELEASE_SHARE = 0.75;

/** A run's tests as the core keeps them: unique ids, sorted, cut to `MAX_RUN_FAILURES`. */
export function runTests(input: { failed: string[]; passed?: number | null }): RunTests {
  const ids = [...new Set(input.failed.map((t) => String(t).slice(0, MAX_TEST_ID)).filter((t) => t.length > 0))];
  ids.sort();
  const out: RunTests = { failed: ids.slice(0, MAX_RUN_FAILURES), failedCount: ids.length };
  if (typeof input.passed === 'number' && input.passed >= 0) out.passed = Math.floor(input.passed);
  return out;
}

function book(state: QueueState): TestBook {
  return (state.testBook ??= { judgedRuns: 0, tests: {} });
}

/** Flakes across the book, the tests that flaked once, and the tests that flaked at all. */
function flakeCounts(b: TestBook | undefined): { flakes: number; once: number; flaky: number } {
  const out = { flakes: 0, once: 0, flaky: 0 };
  for (const rec of Object.values(b?.tests ?? {})) {
    out.flakes += rec.flakes;
    if (rec.flakes === 1) out.once += 1;
    if (rec.flakes > 0) out.flaky += 1;
  }
  return out;
}

/** A test's chance to flake in a run: for its first flake, and for each one after. */
export interface TestRates {
  first: number;
  later: number;
}

/**
 * The flake rates of the queue's tests, the book's totals read once. A test that flaked has its
 * flakes against the runs that reported tests (with the rate of a test that never flaked over
 * `PRIOR_RUNS` runs as the prior), for every flake. A test that never flaked gets, for a first
 * flake, the queue's rate times the share of flakes that fell on a test for the first time
 * (Good-Turing: tests that flaked once against all flakes), spread over the suite's tests that never
 * flaked: a queue whose flakes keep to a few tests trusts the others. Once it has failed, though, it
 * may be one of the flaky ones: a second failure is a flake as often as the flaky tests' mean rate
 * says (never less than a first one).
 */
export function flakeRatesOf(state: QueueState): (id: string) => TestRates {
  const b = state.testBook;
  const counts = flakeCounts(b);
  const judged = b?.judgedRuns ?? 0;
  const queueRate = estimatedRates(state).flakeRate;
  const size = Math.max(1, (b?.suiteSize ?? 1) - counts.flaky);
  const unseen = (queueRate * (counts.once + 1)) / (counts.flakes + 1) / size;
  const flakyMean = (counts.flakes + PRIOR_RUNS * queueRate) / ((counts.flaky + 1) * (judged + PRIOR_RUNS));
  const never: TestRates = { first: unseen, later: Math.max(unseen, flakyMean) };
  return (id) => {
    const mine = flakesOf(b, id);
    if (mine === 0) return never;
    const rate = (mine + PRIOR_RUNS * unseen) / (judged + PRIOR_RUNS);
    return { first: rate, later: rate };
  };
}

/** Whether a test has flaked in this queue before (a test that never did is the kind culprits break). */
export function hasFlaked(state: QueueState, id: string): boolean {
  return flakesOf(state.testBook, id) > 0;
}

function flakesOf(b: TestBook | undefined, id: string): number {
  return (b && own(b.tests, id)?.flakes) ?? 0;
}

/** A test's flake rate, as quarantine and the dashboard judge it (the rate of its next flake). */
export function testFlakeRate(state: QueueState, id: string): number {
  return flakeRatesOf(state)(id).later;
}

/** A row of the queue's flaky tests (the dashboard's table, the API's `flakyTests`). */
export interface FlakyTest {
  id: string;
  failures: number;
  flakes: number;
  flakeRate: number;
  quarantinedSince: number | null;
}

/** The tests that flaked or are quarantined, flakiest first. */
export function flakyTests(state: QueueState): FlakyTest[] {
  const rateOf = flakeRatesOf(state);
  return Object.entries(state.testBook?.tests ?? {})
    .filter(([, t]) => t.flakes > 0 || t.quarantinedSince !== undefined)
    .map(([id, t]) => ({
      id,
      failures: t.failures,
      flakes: t.flakes,
      flakeRate: rateOf(id).later,
      quarantinedSince: t.quarantinedSince ?? null,
    }))
    .sort((x, y) => y.flakeRate - x.flakeRate || x.id.localeCompare(y.id));
}

/**
 * How likely a change is to break one given test: the queue's culprit rate times the share of the
 * suite a culprit breaks (the tests its culprits broke, one in all with no history). Without the
 * suite's size, every test counts as the whole suite, as with one bit per run.
 */
export function testCulpritRate(state: QueueState): number {
  const { culpritRate } = estimatedRates(state);
  const b = state.testBook;
  if (!b?.suiteSize) return culpritRate;
  const perCulprit = ((b.brokenTests ?? 0) + 1) / ((b.culprits ?? 0) + 1);
  return culpritRate * Math.min(1, perCulprit / b.suiteSize);
}

/** Counts a culprit named with the tests it broke (for `testCulpritShare`). */
export function recordCulpritTests(state: QueueState, count: number): void {
  const b = book(state);
  b.culprits = (b.culprits ?? 0) + 1;
  b.brokenTests = (b.brokenTests ?? 0) + count;
}

export function isQuarantined(state: QueueState, id: string): boolean {
  const b = state.testBook;
  return !!b && own(b.tests, id)?.quarantinedSince !== undefined;
}

/** The failures of a run that still count against its changes: not quarantined, not shown flaky. */
export function countedFailures(run: Run): string[] {
  if (!run.tests) return [];
  const skip = new Set([...(run.flakyTests ?? []), ...(run.quarantined ?? [])]);
  return run.tests.failed.filter((t) => !skip.has(t));
}

/**
 * Records the tests of a run that ended passed or failed: its chance to flake for every test,
 * each failure, and (main line) the failure streaks of quarantined tests. Sets `run.quarantined`
 * to its failing tests that are quarantined; returns whether any failure is left that counts.
 */
export function recordRunTests(ctx: StepContext, run: Run, main: boolean): boolean {
  const tests = run.tests;
  if (!tests) return true;
  const b = book(ctx.state);
  b.judgedRuns += 1;
  if (tests.passed !== undefined) b.suiteSize = Math.max(b.suiteSize ?? 0, tests.passed + tests.failedCount);
  const quarantined = tests.failed.filter((t) => isQuarantined(ctx.state, t));
  if (quarantined.length > 0) run.quarantined = quarantined;
  for (const id of tests.failed) {
    const rec = (b.tests[id] ??= { failures: 0, flakes: 0, lastFailedAt: ctx.at });
    rec.failures += 1;
    rec.lastFailedAt = ctx.at;
  }
  const held = Object.keys(b.tests).filter((id) => b.tests[id]!.quarantinedSince !== undefined);
  if (held.length > 0) {
    if (main) {
      const before = flakeRatesOf(ctx.state);
      const streaks = held.map((id) => ({ id, rec: b.tests[id]!, flakeRate: before(id).later }));
      followStreaks(ctx, run, streaks, testCulpritRate(ctx.state));
    }
    // a streak that ended counted its flakes
    const rateOf = flakeRatesOf(ctx.state);
    for (const id of held) reviewQuarantine(ctx, id, rateOf(id).later);
  }
  trimBook(b);
  return tests.failed.length > quarantined.length;
}

/** Records that `test` failing in `run` was a flake (a later run without that failure covered it). */
export function markTestFlaky(ctx: StepContext, run: Run, test: string): void {
  if (run.flakyTests?.includes(test)) return;
  (run.flakyTests ??= []).push(test);
  const rec = own(book(ctx.state).tests, test);
  if (!rec) return;
  rec.flakes += 1;
  reviewQuarantine(ctx, test, testFlakeRate(ctx.state, test));
}

/** The most tests a broken stream keeps as its culprits' (a run keeps at most `MAX_RUN_FAILURES` failures). */
const MAX_BROKEN_TESTS = 2 * MAX_RUN_FAILURES;

/**
 * Adds the tests a culprit of `stream`'s break broke to the break's (for `learnFlakesOfBreak`). Past
 * `MAX_BROKEN_TESTS` they become `null`, "too many to tell": a culprit's test left out would be
 * taken for a flake, so nothing is learned from that break.
 */
export function noteBrokenTests(stream: StreamState, tests: string[]): void {
  if (!stream.broken || stream.broken.tests === null) return;
  const all = [...new Set([...(stream.broken.tests ?? []), ...tests])].sort();
  stream.broken.tests = all.length > MAX_BROKEN_TESTS ? null : all;
}

/**
 * A broken stream is whole again: `pass` passed on top of every change its failing runs held since
 * the culprit. Another test than the culprits' that failed in such a run flaked there, as a passing
 * run above a failure shows in the main line (signatures.ts, clearTestFlakes): it is marked, so that
 * the flakes of the tip checks, of the fix line and of the runs the blame cancelled count towards
 * that test's flake rate. Without them, a test that flaked only while the stream was broken would
 * look as if it never flaked, and two flakes of it in a row would be enough to blame a change.
 * Only runs of the stream's commits up to the pass, with every other project where the pass has it.
 */
export function learnFlakesOfBreak(ctx: StepContext, stream: StreamState, pass: Run): void {
  const broken = stream.broken;
  const culprit = broken && own(ctx.state.changes, broken.culprit);
  if (!broken?.tests || !culprit || pass.state !== 'passed') return;
  const mine = Object.values(ctx.state.changes).filter((c) => c.stream === stream.id);
  const seqOf = new Map(mine.map((c) => [c.sha, c.seq]));
  const from = culprit.seq;
  const upTo = seqOf.get(pass.refs[stream.project] ?? '');
  if (upTo === undefined) return;
  // a revert of another change (one the culprit masked, say) between a run and the pass may have
  // undone what made that run fail
  const otherReverts = mine
    .filter((c) => c.seq > from && c.seq <= upTo && c.reverts?.some((r) => !namesChange(r, culprit)))
    .map((c) => c.seq);
  const explained = new Set(broken.tests);
  for (const run of Object.values(ctx.state.runs)) {
    if (run === pass || run.state !== 'failed' || !run.tests || run.flake) continue;
    const seq = seqOf.get(run.refs[stream.project] ?? '');
    if (seq === undefined || seq < from || seq > upTo || otherReverts.some((s) => s > seq)) continue;
    const sameElsewhere = Object.entries(run.refs).every(([p, sha]) => p === stream.project || pass.refs[p] === sha);
    if (!sameElsewhere) continue;
    for (const t of countedFailures(run)) if (!explained.has(t)) markTestFlaky(ctx, run, t);
  }
}

/**
 * Puts a test in quarantine, or takes it out, as its flake rate `rate` now says. It stays while it
 * fails in every run (a streak): its rate only falls then, those failures being neither flakes nor
 * passes yet, and released it would stop the line at the first change not yet passed, an innocent one.
 */
function reviewQuarantine(ctx: StepContext, id: string, rate: number): void {
  const rec = own(book(ctx.state).tests, id);
  if (!rec) return;
  const limit = ctx.state.settings.quarantine;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  if (rec.quarantinedSince === undefined) {
    if (limit === null || limit === undefined || rate <= limit || rec.flakes < QUARANTINE_MIN_FLAKES) return;
    rec.quarantinedSince = ctx.at;
    notice(
      ctx,
      'warn',
      'test-quarantined',
      `test ${id} is quarantined: it flaked in ${rec.flakes} runs (estimated rate ${pct(rate)}, above flaky.quarantine ` +
        `${pct(limit)}); its failures no longer stop the line, and name a culprit only when the runs that fail it single one change out`,
    );
  } else if (limit === null || limit === undefined || (rate < limit * RELEASE_SHARE && !rec.streak)) {
    delete rec.quarantinedSince;
    delete rec.streak;
    notice(ctx, 'info', 'test-released', `test ${id} left quarantine: its estimated flake rate is now ${pct(rate)}`);
  }
}

/** Keeps the book to `MAX_BOOK_TESTS` tests: the ones that failed longest ago go first, never a quarantined one. */
function trimBook(b: TestBook): void {
  const ids = Object.keys(b.tests);
  if (ids.length <= MAX_BOOK_TESTS) return;
  const droppable = ids
    .filter((id) => b.tests[id]!.quarantinedSince === undefined)
    .sort((x, y) => b.tests[x]!.lastFailedAt - b.tests[y]!.lastFailedAt);
  for (const id of droppable.slice(0, ids.length - MAX_BOOK_TESTS)) delete b.tests[id];
}
