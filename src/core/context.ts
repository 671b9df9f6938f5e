// The step context every core module works on: the state one event changes (a private copy), the
// effects the step emits, the strategies it may use, and the event's time.
import type { Strategy } from './strategies/strategy.ts';
import type { Effect, QueueState } from './types.ts';

export interface StepContext {
  /** The state being changed; step() hands in a copy, never the caller's. */
  readonly state: QueueState;
  /** Effects emitted so far, in order. */
  readonly effects: Effect[];
  readonly strategies: Readonly<Record<string, Strategy>>;
  /** The event's salt: new run keys carry it. */
  readonly salt?: string | undefined;
  /** The event's time: every record the step makes (runs, verdicts, deadlines) is stamped with it. */
  readonly at: number;
}
