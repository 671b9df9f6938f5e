// What the engine is built with and what a submit may ask; the error for a queue another owns.
import type { CoreEvent, Effect, QueueSettings, QueueState, QueueStats, Run, Strategy } from '../core/index.ts';
import type { Logger } from '../log.ts';
import type { InboxItem, QueueFile, QueueSetup, Store } from '../store/types.ts';
import type { Performer } from './effects.ts';

export interface EngineOptions {
  store: Store;
  performer: Performer;
  now?: () => number;
  log?: Logger;
  strategies?: Record<string, Strategy>;
  /** Settings for a queue created by its first event. */
  settingsFor?: (queue: string) => Partial<QueueSettings>;
  /** Told about every step (metrics). */
  observer?: StepObserver;
  /** The journal size from which a snapshot may be written (tests make it small). */
  snapshotMinJournalBytes?: number;
  /** Replicas on PostgreSQL: which queues this one writes now, and where it sends what it accepts for the others. */
  role?: EngineRole;
  /** Effects the server adds to a step's own (mails, from the queue's report settings), journaled with them. */
  moreEffects?: (file: QueueFile, effects: readonly Effect[]) => Effect[];
}

/**
 * A replica's part: the replica that holds a queue's lease steps it; the others store what they accept
 * for it in the inbox (before they answer), and the queue's writer applies it.
 */
export interface EngineRole {
  /** Whether this replica writes the queue now (what it accepts for it is stepped here at once). */
  writes(queue: string): boolean;
  /**
   * Whether this replica holds the queue's lease: it writes it, or is taking it over and applies what
   * waited in the inbox for it first.
   */
  holds(queue: string): boolean;
  /** Stores an item for the queue's writer, durably; false when the queue's inbox had its delivery already. */
  forward(queue: string, item: InboxItem, delivery?: string): Promise<boolean>;
}

/** What a step observer is told of the state before the step. */
export interface StateBefore {
  stats: QueueStats;
  /** The state's change and run counter. */
  seq: number;
  /** Each run's state by key. */
  runStates: Record<string, Run['state']>;
}

export type StepObserver = (
  queue: string,
  event: CoreEvent,
  effects: Effect[],
  before: StateBefore,
  after: QueueState,
) => void;

export interface SubmitOptions {
  /** Id of the delivery that carried the event; a second delivery with the same id changes nothing. */
  delivery?: string;
  /** Set on the queue file with the step (CI provider, report settings). */
  setup?: QueueSetup;
  /**
   * Wait until the effects are performed (default). Effects that submit events themselves (a run's
   * URL, a result) must not wait: the drain that performs them would be waiting for itself.
   */
  wait?: boolean;
  /** Told the effects the step decided on, once they are decided (the admin API reads a command's reply). */
  onEffects?: (effects: Effect[]) => void;
}

/** A config tried to set a queue that another repository (or the server config) owns. */
export class QueueOwnedError extends Error {
  constructor(
    readonly queue: string,
    readonly owner: string,
  ) {
    super(`queue ${queue} belongs to ${owner}`);
  }
}
