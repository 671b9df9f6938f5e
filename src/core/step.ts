// The pure entry point of the core: (state, event) -> { state, effects }. The input state is never modified.
import { ChangeQueue } from './queue.ts';
import { builtinStrategies, type Strategy } from './strategies/index.ts';
import type { CoreEvent, QueueState, StepResult } from './types.ts';

export interface StepOptions {
  /** Extra strategies by name, for simulations and benchmarks; the built-in ones are always there. */
  strategies?: Readonly<Record<string, Strategy>>;
}

/** Applies one event to a copy of `state` and returns the new state and the effects it decided on. */
export function step(state: QueueState, event: CoreEvent, options: StepOptions = {}): StepResult {
  const queue = new ChangeQueue(structuredClone(state), { ...builtinStrategies, ...options.strategies });
  queue.handle(event);
  return { state: queue.state, effects: queue.effects };
}
