// The events the core accepts (a merge, a run's start and end, a tick, a command, a new config) and
// the effects a step returns (dispatches, cancels, reports, notices, replies, log lines).
import type {
  ChangeInput,
  Evidence,
  QueueSettings,
  QueueState,
  Run,
  RunKind,
  StreamRef,
  VerdictRecord,
} from './types.ts';

/** An open change (not merged) that `/ost try` asks one run of, and where its result goes. */
export interface TryTarget {
  /** The open change's id, as a merged one would be: `github:owner/repo#12`, `gerrit:<host>/<project>~<n>`. */
  change: string;
  host: string;
  project: string;
  branch: string;
  /** What the run checks out for its project: the pull request's merge commit, the change's current patch set. */
  sha: string;
  /** The commit the result is shown on (a pull request's head commit), when it is not `sha`. */
  head?: string | null;
  /** The ref a CI can fetch `sha` from: `refs/pull/12/merge`, `refs/changes/34/1234/2`. */
  ref?: string | null;
  number?: number | null;
  title?: string;
  url?: string | null;
  /** Who asked for it. */
  by: string;
  requestedAt: number;
}

/**
 * How a run ended, as its runner reports it. `lost`: the runner lost it with a server that stopped
 * (a crash); it is run again without counting as an infra error of the CI.
 */
export type RunStatus = 'success' | 'failure' | 'error' | 'cancelled' | 'lost';

/** The commands the core applies (`/ost help` and `/ost status` are answered by the hosts alone). */
export const COMMAND_VERBS = ['retry', 'enqueue', 'dequeue', 'not-culprit', 'priority', 'pause', 'resume'] as const;
export type CommandVerb = (typeof COMMAND_VERBS)[number];
/** The commands that act on the whole queue rather than on a change. */
export const QUEUE_VERBS: readonly CommandVerb[] = ['pause', 'resume'];

export type CoreEvent = (
  | {
      type: 'merged';
      at: number;
      stream: StreamRef;
      before?: string | null;
      after?: string | null;
      forced?: boolean;
      changes: ChangeInput[];
    }
  | {
      type: 'run-started';
      at: number;
      key: string;
      url?: string | null;
      ciRunId?: string | number | null;
      /** Where the run was sent (`github-actions:<repo>:<workflow>`, `jenkins:<job>`...): results come only from there. */
      target?: string;
    }
  | {
      type: 'run-finished';
      at: number;
      key: string;
      status: RunStatus;
      url?: string | null;
      /** For an error: what went wrong, as the runner or the dispatcher tells it (shown in notices and pauses). */
      reason?: string;
      /** The tests the CI ran, when it reports them: ids of the failing ones, and how many passed. */
      tests?: { failed: string[]; passed?: number | null } | null;
    }
  | { type: 'tick'; at: number }
  | {
      type: 'command';
      at: number;
      verb: CommandVerb;
      change: string;
      user: string;
      /** Opaque handle the reply goes back to (comment, review...). */
      replyTo?: unknown;
      /** For `enqueue`: the change as the host knows it. */
      input?: { stream: StreamRef; change: ChangeInput };
    }
  | { type: 'configure'; at: number; settings: Partial<QueueSettings> }
  | {
      /** `/ost try` on an open change: one run of it over the queue's last passing commits (tries.ts). */
      type: 'try';
      at: number;
      target: Omit<TryTarget, 'requestedAt'>;
      /** Opaque handle the reply goes back to (comment, review...). */
      replyTo?: unknown;
    }
) & {
  /**
   * Random text from the engine that new run keys carry, so that a key cannot be guessed from the
   * queue's name and a counter. Part of the event, so that replaying it gives the same keys.
   */
  salt?: string;
};

export interface DispatchSpec {
  key: string;
  refs: Record<string, string>;
  changes: string[];
  attempt: number;
  kind: RunKind;
  line: string;
  end: string;
  /** For a try run: the open change it tries (the CI gets its id in `changes`). */
  try?: TryTarget;
}

export type Effect =
  | { type: 'dispatch'; run: DispatchSpec }
  | { type: 'cancel'; key: string; reason: string }
  | { type: 'report'; change: string; verdict: VerdictRecord }
  | { type: 'notice'; level: 'info' | 'warn' | 'error'; code: string; message: string; change?: string }
  | { type: 'reply'; to: unknown; change: string; ok: boolean; message: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn'; message: string }
  | MailEffect
  | ChatEffect
  | RevertEffect
  | TryResultEffect;

/** A try run ended (passed, failed, no result, or replaced by a newer try): post it on the open change. */
export interface TryResultEffect {
  type: 'try-result';
  /** The run as it ended; `run.try` names the change. */
  run: Run;
}

/** What a mail or a chat message is about. */
export type MessageAbout =
  | { kind: 'verdict'; change: string; verdict: VerdictRecord }
  /** The changes one culprit blocked in one step: one message for all of them. */
  | { kind: 'blocked'; culprit: string | null; changes: string[]; verdicts: VerdictRecord[] }
  /** A paused or resumed queue, an infra error. */
  | { kind: 'queue'; code: string; level: 'info' | 'warn' | 'error'; message: string };

/**
 * A mail to send. The core never decides one: the engine adds them to a step's effects from the
 * queue's `report.email` (notify/plan.ts), so that they are journaled and sent like the others.
 */
export interface MailEffect {
  type: 'mail';
  to: string[];
  about: MessageAbout;
  /** The first mail about its change: its Message-ID is the thread's (decided with the step, for retries). */
  startsThread?: boolean;
}

/** A message to a chat channel the server config declares (`report.channels`); added like mails. */
export interface ChatEffect {
  type: 'chat';
  channel: string;
  about: MessageAbout;
}

/**
 * Open the revert of a confirmed culprit, or say on it why none is opened. Like mails, the core never
 * decides one: the engine adds them from the repo config's `revert:` (revert/plan.ts).
 */
export interface RevertEffect {
  type: 'revert';
  /** The culprit. */
  change: string;
  /** Why no revert is opened (a guard of the queue stopped it): posted on the culprit instead. */
  refused?: string;
  /** Its posterior when it was named. */
  confidence: number;
  /** The runs that convicted it. */
  evidence: Evidence[];
  /** `revert.submit`: submit the revert too (Gerrit), or let it merge itself (GitHub auto-merge). */
  submit: boolean;
}

export interface StepResult {
  state: QueueState;
  effects: Effect[];
}
