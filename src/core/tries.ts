// Try runs: `/ost try` on an open change asks for one run of it over the queue's last passing commits.
// A try never enters a line, never blames, and touches no statistics; it runs only on a runner the
// queue leaves idle, at most `tryMaxParallel` at once, and a newer try of a change replaces the older.
// Changes: tries (the waiting requests), runs. Emits: dispatches, cancels, try results, replies.
import type { StepContext } from './context.ts';
import { log } from './emit.ts';
import { isInFlight } from './lines.ts';
import { own } from './own.ts';
import { createRun, endOutsideLines, refsFor, supersede } from './runs.ts';
import { runTests } from './test-book.ts';
import type { CoreEvent, Run, RunStatus, TryTarget } from './types.ts';

/** The line a try run names: no line of the queue has it. */
export const TRY_LINE = 'try';
/** Requests that may wait at once; a request beyond this is refused (each change has at most one). */
export const TRIES_WAITING_KEPT = 100;

/**
 * Takes a try request: the older try of the same change (waiting or in flight) is dropped or
 * cancelled, and the new one waits for an idle runner. A change the queue has is merged: refused.
 */
export function requestTry(ctx: StepContext, event: Extract<CoreEvent, { type: 'try' }>): void {
  const { target, replyTo } = event;
  const reply = (ok: boolean, message: string): void => {
    ctx.effects.push({ type: 'reply', to: replyTo ?? null, change: target.change, ok, message });
  };
  if (own(ctx.state.changes, target.change) || ctx.state.forgotten.includes(target.change))
    return reply(false, `${target.change} is merged and tested in queue ${ctx.state.name}; try is for open changes`);
  if (ctx.state.settings.tryMaxParallel <= 0)
    return reply(false, `queue ${ctx.state.name} takes no tries: its try.max_parallel is 0`);
  const waiting = (ctx.state.tries ?? []).filter((t) => t.change !== target.change);
  if (waiting.length >= TRIES_WAITING_KEPT)
    return reply(false, `${TRIES_WAITING_KEPT} tries already wait in queue ${ctx.state.name}; ask again later`);
  const replaced = (ctx.state.tries ?? []).length - waiting.length + cancelTries(ctx, target.change);
  ctx.state.tries = [...waiting, { ...target, requestedAt: ctx.at }];
  reply(
    true,
    `a try of ${target.change} at ${target.sha.slice(0, 10)} waits for an idle runner of queue ${ctx.state.name}` +
      `${replaced > 0 ? ' (it replaces the earlier try)' : ''}; its result is posted here`,
  );
}

/** Cancels the try runs of `change` in flight; their results say so. Returns how many. */
function cancelTries(ctx: StepContext, change: string): number {
  const runs = Object.values(ctx.state.runs).filter(
    (r) => r.kind === 'try' && r.try?.change === change && isInFlight(r),
  );
  for (const run of runs) {
    supersede(ctx, run, 'replaced by a newer try');
    run.error = 'replaced by a newer /ost try';
    ctx.effects.push({ type: 'try-result', run: structuredClone(run) });
  }
  return runs.length;
}

/**
 * Sends waiting tries while the queue leaves runners idle (call it after the queue's own scheduling)
 * and fewer than `tryMaxParallel` tries are in flight. A paused queue sends none. Returns how many.
 */
export function dispatchTries(ctx: StepContext): number {
  const { state } = ctx;
  if (state.paused || !state.tries?.length) return 0;
  const inFlight = Object.values(state.runs).filter(isInFlight);
  let free = Math.min(
    state.settings.maxParallel - inFlight.length,
    state.settings.tryMaxParallel - inFlight.filter((r) => r.kind === 'try').length,
  );
  let sent = 0;
  while (free > 0 && state.tries.length > 0) {
    const target = state.tries.shift()!;
    createTryRun(ctx, target, 1);
    free -= 1;
    sent += 1;
  }
  if (state.tries.length === 0) delete state.tries;
  return sent;
}

function createTryRun(ctx: StepContext, target: TryTarget, attempt: number): Run {
  return createRun(ctx, {
    line: TRY_LINE,
    end: target.change,
    kind: 'try',
    attempt,
    changes: [],
    // every project at its last passing commit, the tried one at the change's commit
    refs: { ...refsFor(ctx, []), [target.project]: target.sha },
    try: target,
  });
}

/**
 * A try run's result: passed or failed is posted on its change; no result (an error, a cancel by the
 * CI, a time-out) is tried again up to `retries` times, then posted; a run lost with a server that
 * stopped goes out again. Nothing else in the queue changes: no verdict, statistic or test count.
 */
export function finishTry(
  ctx: StepContext,
  run: Run,
  status: RunStatus | 'timed-out',
  tests?: { failed: string[]; passed?: number | null } | null,
): void {
  endOutsideLines(ctx, run, status);
  if (run.state === 'failed' && tests?.failed.length) run.tests = runTests(tests);
  const tryAgain =
    status === 'lost' || (!['passed', 'failed'].includes(run.state) && run.attempt <= ctx.state.settings.retries);
  if (tryAgain) {
    const retry = createTryRun(ctx, run.try!, status === 'lost' ? run.attempt : run.attempt + 1);
    const why = run.error ? ` (${run.error})` : '';
    log(ctx, 'info', `try run ${run.key} ended ${run.state}${why}; running it again as ${retry.key}`);
    return;
  }
  ctx.effects.push({ type: 'try-result', run: structuredClone(run) });
}
