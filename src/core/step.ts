// The coordinator of the core and its pure entry point: (state, event) -> { state, effects }.
// It applies one event through the module of its concern, then feeds, settles and schedules until
// the queue is at rest, and prunes. `step` never modifies its input; `advance` modifies the state it is
// given, for an owner that keeps no other copy (the engine), and saves a copy of the whole state.
import { command } from './commands.ts';
import type { StepContext } from './context.ts';
import { log } from './emit.ts';
import { feed } from './feed.ts';
import { prune } from './prune.ts';
import { expireRuns, runFinished, runStarted } from './results.ts';
import { settle } from './blame.ts';
import { schedule } from './schedule.ts';
import { builtinStrategies, type Strategy } from './strategies/index.ts';
import { expireEarlyPushes, merge } from './streams.ts';
import { dispatchTries, requestTry } from './tries.ts';
import { dispatchQuarantineChecks } from './quarantine-check.ts';
import type { CoreEvent, QueueState, StepResult } from './types.ts';

export interface StepOptions {
  /** Extra strategies by name, for simulations and benchmarks; the built-in ones are always there. */
  strategies?: Readonly<Record<string, Strategy>>;
}

/** Applies one event to a copy of `state` and returns the new state and the effects it decided on. */
export function step(state: QueueState, event: CoreEvent, options: StepOptions = {}): StepResult {
  return advance(structuredClone(state), event, options);
}

/**
 * Applies one event to `state` itself and returns it with the effects decided. The same as `step`
 * but without the copy: a caller whose step throws must drop the state (it may be half changed).
 */
export function advance(state: QueueState, event: CoreEvent, options: StepOptions = {}): StepResult {
  const ctx: StepContext = {
    state,
    effects: [],
    strategies: { ...builtinStrategies, ...options.strategies },
    salt: event.salt,
    at: event.at,
  };
  apply(ctx, event);
  settleAndSchedule(ctx);
  prune(ctx);
  return { state: ctx.state, effects: ctx.effects };
}

/** The event switch: each event goes to the module of its concern. */
function apply(ctx: StepContext, event: CoreEvent): void {
  switch (event.type) {
    case 'merged':
      merge(ctx, event);
      return;
    case 'run-started':
      runStarted(ctx, event);
      return;
    case 'run-finished':
      runFinished(ctx, event);
      return;
    case 'tick':
      expireRuns(ctx);
      expireEarlyPushes(ctx);
      return;
    case 'command':
      command(ctx, event);
      return;
    case 'try':
      requestTry(ctx, event);
      return;
    case 'configure':
      ctx.state.settings = { ...ctx.state.settings, ...event.settings };
      log(ctx, 'info', `settings updated: ${Object.keys(event.settings).join(', ') || 'none'}`);
      return;
  }
}

/**
 * Feeds pending changes into lines, decides what the results allow, and dispatches (tries last). One pass of
 * schedule may leave runners free that a second pass would use (a confirmation goes out, then
 * probes beside it): it repeats until nothing more goes out, so that a step ends at rest.
 */
function settleAndSchedule(ctx: StepContext): void {
  feed(ctx);
  settle(ctx);
  for (let pass = 0, before = -1; pass < 8 && before !== ctx.effects.length; pass++) {
    before = ctx.effects.length;
    schedule(ctx);
  }
  // tries, then the checks of quarantined tests that keep failing, take only the runners the queue left idle
  dispatchTries(ctx);
  dispatchQuarantineChecks(ctx);
}
