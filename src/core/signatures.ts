// Searches per failure signature: when the CI reports which tests failed, each failing test (or
// group of tests that failed in exactly the same runs) has its own first failing prefix, its own
// flake rate and its own search; a run speaks for every test it ran. Read-only but for
// `clearTestFlakes`, which marks the failures a later run showed to be flakes (test-book.ts).
import type { StepContext } from './context.ts';
import { type LineView, liveRuns } from './lines.ts';
import { posterior } from './strategies/posterior.ts';
import type { SearchView, Strategy } from './strategies/strategy.ts';
import { countedFailures, flakeRatesOf, hasFlaked, markTestFlaky, testCulpritRate } from './test-book.ts';
import type { QueueState, Run } from './types.ts';

/** The search for the first change that broke one signature, on the main line. */
export interface SignatureSearch {
  /** Its tests, sorted. */
  tests: string[];
  /** The line position its view starts at: every run at or below `offset - 1` passed these tests. */
  offset: number;
  /** The lowest line position where these tests failed. */
  top: number;
  /** The strategy's view, positions counted from `offset`, with the signature's own flake rate. */
  view: SearchView;
  /** Probability that every failure of these tests was a flake. */
  none: number;
}

/** "It was a flake" is the likelier story: one run at or above its failures settles it. */
export function flakeLikely(s: SignatureSearch): boolean {
  return s.none >= 0.5;
}

/** The most signatures searched at once; the rest wait for the lowest ones to be settled. */
const MAX_SIGNATURES = 20;

/** A run that passed or failed: one that tells something of its tests. */
function ended(run: Run): boolean {
  return run.state === 'passed' || run.state === 'failed';
}

interface Placed {
  run: Run;
  pos: number;
}

function placedRuns(state: QueueState, main: LineView): Placed[] {
  const index = new Map(main.changes.map((id, i) => [id, i]));
  const out: Placed[] = [];
  for (const run of liveRuns(state, main.line)) {
    const pos = index.get(run.end);
    if (pos !== undefined) out.push({ run, pos });
  }
  return out;
}

/**
 * The searches of the main line, one per failure signature, lowest first; null when a failure
 * there carries no test results (then the line is searched on one bit per run, as before).
 */
export function signatureSearches(
  state: QueueState,
  main: LineView,
  free: number,
  confirm: number,
): SignatureSearch[] | null {
  const placed = placedRuns(state, main);
  const failed = placed.filter((p) => p.run.state === 'failed');
  if (failed.length === 0 || failed.some((p) => !p.run.tests)) return null;
  // tests that failed in the same runs form one signature
  const runsOf = new Map<string, string[]>();
  for (const p of failed) for (const t of countedFailures(p.run)) runsOf.set(t, [...(runsOf.get(t) ?? []), p.run.key]);
  const groups = new Map<string, string[]>();
  for (const [t, keys] of runsOf) groups.set(keys.join(' '), [...(groups.get(keys.join(' ')) ?? []), t]);
  // a change breaks one given test far less often than it breaks some test
  const culpritRate = testCulpritRate(state);
  const rateOf = flakeRatesOf(state);
  const searches: SignatureSearch[] = [];
  for (const tests of groups.values()) {
    tests.sort();
    const ran = (r: Run) => r.state === 'failed' && !!r.tests?.failed.includes(tests[0]!);
    const fails = (r: Run) => ran(r) && countedFailures(r).includes(tests[0]!);
    const passedAt = placed.filter((p) => ended(p.run) && !ran(p.run)).map((p) => p.pos);
    const offset = Math.max(-1, ...passedAt) + 1;
    const size = main.changes.length - offset;
    if (size <= 0) continue;
    const failures = new Array<number>(size).fill(0);
    for (const p of failed) if (p.pos >= offset && fails(p.run)) failures[p.pos - offset]! += 1;
    const top = failures.findIndex((n) => n > 0);
    if (top < 0) continue;
    const rates = tests.map(rateOf);
    const flakeRate = Math.max(...rates.map((r) => r.later));
    const firstFlakeRate = Math.max(...rates.map((r) => r.first));
    const view: SearchView = {
      size,
      failures,
      inFlight: main.inFlight.slice(offset),
      free,
      flakeRate,
      firstFlakeRate,
      culpritRate,
      confirm,
      confidence: state.settings.confidence,
      confirmAbove: true,
    };
    searches.push({
      tests,
      offset,
      top: top + offset,
      view,
      none: posterior(failures, flakeRate, culpritRate, firstFlakeRate).none,
    });
  }
  searches.sort((a, b) => a.top - b.top || a.offset - b.offset);
  return searches.slice(0, MAX_SIGNATURES);
}

/**
 * Positions of the main line to run next, for every signature, lowest first: a likely flake gets
 * one run at its lowest failure unless a run at or above it is in flight (its result settles it);
 * the others get the strategy's plan on their own view. Probes chosen for one count as in flight
 * for the next, so searches whose ranges overlap share them.
 */
export function planSignatures(
  searches: SignatureSearch[],
  main: LineView,
  how: { strategy: Strategy; fallback: Strategy; free: number },
): number[] {
  const { strategy, fallback, free } = how;
  const chosen: number[] = [];
  const inFlight = [...main.inFlight];
  const take = (pos: number) => {
    chosen.push(pos);
    inFlight[pos]! += 1;
  };
  const ordered = [...searches.filter((s) => !flakeLikely(s)), ...searches.filter(flakeLikely)];
  for (const s of ordered) {
    const left = free - chosen.length;
    if (left <= 0) break;
    if (flakeLikely(s)) {
      if (!inFlight.some((n, i) => n > 0 && i >= s.top)) take(s.top);
      continue;
    }
    const view: SearchView = { ...s.view, inFlight: inFlight.slice(s.offset), free: left };
    let positions = strategy.plan(view);
    if (positions.length === 0 && !view.inFlight.some((n) => n > 0)) positions = fallback.plan(view);
    for (const p of positions.slice(0, left)) take(p + s.offset);
    // a likely break: one more run of the failed prefix beside the probes fails with whichever change
    // broke it, and counts toward its confirmation (failures above do), so the culprit is named when
    // the probes come back instead of a round later
    const probing = positions.length > 0 && positions.every((p) => p + s.offset < s.top);
    if (probing && free - chosen.length > 0 && (inFlight[s.top] ?? 0) === 0) take(s.top);
  }
  return chosen;
}

/**
 * Marks, in every failed run of the main line, the failing tests that a finished run at or above
 * it did not fail: flakes for those tests. Returns the runs left with no failure that counts: in
 * effect they passed.
 */
export function clearTestFlakes(ctx: StepContext, main: LineView): Run[] {
  if (!ctx.state.testBook) return [];
  const placed = placedRuns(ctx.state, main).filter((p) => ended(p.run) && p.run.tests);
  const cleared: Run[] = [];
  for (const p of placed) {
    if (p.run.state !== 'failed') continue;
    const counted = countedFailures(p.run);
    if (counted.length === 0) continue;
    for (const t of counted) {
      const passedAbove = placed.some((q) => q.pos >= p.pos && q !== p && !q.run.tests!.failed.includes(t));
      if (passedAbove) markTestFlaky(ctx, p.run, t);
    }
    if (countedFailures(p.run).length === 0) cleared.push(p.run);
  }
  return cleared;
}

/** Whether every signature's failures are at least `share` likely to be flakes. */
export function allFlakesPlausible(searches: SignatureSearch[], share: number): boolean {
  return searches.every((s) => s.none >= share);
}

/**
 * Whether the runs in flight above a failed main-line run are kept: when it failed only in tests
 * that never flaked (a likely break: they hold its suspects too, fail the same tests, and confirm
 * it, failures above counting toward flaky.confirm), or when other tests' failures above it are
 * left to search (those runs still speak for them).
 */
export function keepsRunsAbove(state: QueueState, main: LineView, run: Run): boolean {
  if (!run.tests) return false;
  const failing = countedFailures(run);
  if (failing.length > 0 && !failing.some((t) => hasFlaked(state, t))) return true;
  return otherFailuresAbove(state, main, run);
}

/** Whether a failed main-line run leaves other tests' failures above it to search. */
function otherFailuresAbove(state: QueueState, main: LineView, run: Run): boolean {
  const mine = new Set(run.tests?.failed);
  const placed = placedRuns(state, main);
  const at = placed.find((p) => p.run === run)?.pos ?? -1;
  return placed.some((p) => p.pos > at && p.run.state === 'failed' && countedFailures(p.run).some((t) => !mine.has(t)));
}
