// Try runs: `/ost try` on an open change asks for one run of it over the queue's last passing commits.
// A try never enters a line, never blames, and touches no statistics; it runs only on a runner the
// queue leaves idle, at most `tryMaxParallel` at once, and a newer try of a change replaces the older.
// Changes: tries (the waiting requests), runs. Emits: dispatches, cancels, try results, replies.
import type { StepContext } from './context.ts';
import { log } from './emit.ts';
import { isInFlight } from './lines.ts';
import { own } from './own.ts';
import { createRun } from './runs.ts';
import { defaultSettings } from './settings.ts';
import type { CoreEvent, QueueState, Run, RunState, RunStatus, TryTarget } from './types.ts';

/** The line a try run names: no line of the queue has it. */
export const TRY_LINE = 'try';
/** Requests that may wait at once; a request beyond this is refused (each change has at most one). */
export const TRIES_WAITING_KEPT = 100;

/** `try.max_parallel`; a queue stored before tries existed has none in its settings: the default. */
function tryLimit(state: QueueState): number {
  return state.settings.tryMaxParallel ?? defaultSettings.tryMaxParallel;
}

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
  if (tryLimit(ctx.state) <= 0)
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
  let n = 0;
  for (const run of Object.values(ctx.state.runs)) {
    if (run.kind !== 'try' || run.try?.change !== change || !isInFlight(run)) continue;
    run.state = 'cancelled';
    run.finishedAt = ctx.at;
    run.error = 'replaced by a newer /ost try';
    ctx.effects.push({ type: 'cancel', key: run.key, reason: 'replaced by a newer try' });
    ctx.effects.push({ type: 'try-result', run: structuredClone(run) });
    n += 1;
  }
  return n;
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
    tryLimit(state) - inFlight.filter((r) => r.kind === 'try').length,
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

/** project -> sha: every stream at its last passing commit, the tried change's project at its commit. */
export function tryRefs(ctx: StepContext, target: TryTarget): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const s of Object.values(ctx.state.streams)) if (s.good) refs[s.project] = s.good;
  refs[target.project] = target.sha;
  return refs;
}

function createTryRun(ctx: StepContext, target: TryTarget, attempt: number): Run {
  return createRun(ctx, {
    line: TRY_LINE,
    end: target.change,
    kind: 'try',
    attempt,
    changes: [],
    refs: tryRefs(ctx, target),
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
  result: { status: RunStatus | 'timed-out'; reason?: string | undefined; failed?: string[] },
): void {
  const { status, reason } = result;
  run.finishedAt = ctx.at;
  const state: RunState =
    status === 'success'
      ? 'passed'
      : status === 'failure'
        ? 'failed'
        : status === 'timed-out'
          ? 'timed-out'
          : status === 'error'
            ? 'error'
            : 'cancelled';
  run.state = state;
  if (reason) run.error = reason.slice(0, 300);
  if (state === 'failed' && result.failed?.length) {
    const failed = [...result.failed].sort();
    run.tests = { failed: failed.slice(0, 50), failedCount: failed.length };
  }
  const again = status === 'lost' ? run.attempt : run.attempt + 1;
  if (status === 'lost' || (state !== 'passed' && state !== 'failed' && run.attempt <= ctx.state.settings.retries)) {
    const retry = createTryRun(ctx, run.try!, again);
    log(
      ctx,
      'info',
      `try run ${run.key} ended ${state}${reason ? ` (${reason})` : ''}; running it again as ${retry.key}`,
    );
    return;
  }
  ctx.effects.push({ type: 'try-result', run: structuredClone(run) });
}
