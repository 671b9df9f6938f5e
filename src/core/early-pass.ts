// Early passes: a main-line run that failed only in tests known to flake, each failure likelier a
// flake than `flaky.early_pass` says, tells its changes `passed` at once, marked provisional, while
// the search makes sure as it always did. Changes: `passedEarly` on changes, the verdict list.
// Emits: the provisional `passed` reports. The final verdict (verdicts.ts) keeps one silently, or
// takes it back and tells the new one.
import type { StepContext } from './context.ts';
import { type LineView, liveRuns } from './lines.ts';
import { own } from './own.ts';
import type { SignatureSearch } from './signatures.ts';
import { countedFailures, hasFlaked } from './test-book.ts';
import type { QueueState, Run, VerdictRecord } from './types.ts';

/** Why a run's changes may pass early: its failing tests, and the chance that all of them flaked. */
interface FlakyFailure {
  run: string;
  tests: string[];
  flake: number;
}

/**
 * Gives a provisional `passed` to every change of the main line up to the highest failed run whose
 * failures may all be taken for flakes (`flakyFailure`). A change gets one at most.
 */
export function passEarly(ctx: StepContext, main: LineView, searches: SignatureSearch[]): void {
  const threshold = ctx.state.settings.earlyPass;
  if (threshold === null || threshold === undefined || searches.length === 0) return;
  const index = new Map(main.changes.map((id, i) => [id, i]));
  let upTo = -1;
  let because: FlakyFailure | null = null;
  for (const run of liveRuns(ctx.state, main.line)) {
    const pos = index.get(run.end);
    if (pos === undefined || pos <= upTo || run.state !== 'failed') continue;
    const found = flakyFailure(ctx.state, run, searches, threshold);
    if (!found) continue;
    upTo = pos;
    because = found;
  }
  if (!because) return;
  for (const id of main.changes.slice(0, upTo + 1)) {
    const change = own(ctx.state.changes, id);
    if (!change || change.state === 'done' || change.passedEarly) continue;
    change.passedEarly = because.run;
    const record: VerdictRecord = {
      change: id,
      verdict: 'passed',
      at: ctx.at,
      run: because.run,
      provisional: { tests: because.tests, flake: because.flake },
    };
    ctx.state.verdicts.push(record);
    ctx.effects.push({ type: 'report', change: id, verdict: record });
  }
}

/**
 * A failed run whose counted failures are all of tests that flaked before (a test that never did
 * has only the prior's word for it: it is the kind culprits break), in signatures at least
 * `threshold` likely to be flakes throughout; null for any other run.
 */
function flakyFailure(
  state: QueueState,
  run: Run,
  searches: SignatureSearch[],
  threshold: number,
): FlakyFailure | null {
  const failing = countedFailures(run);
  if (!run.tests || failing.length === 0) return null;
  if (!failing.every((t) => hasFlaked(state, t))) return null;
  let flake = 1;
  for (const t of failing) {
    const search = searches.find((s) => s.tests.includes(t));
    if (!search || search.none < threshold) return null;
    flake = Math.min(flake, search.none);
  }
  return { run: run.key, tests: failing, flake };
}
