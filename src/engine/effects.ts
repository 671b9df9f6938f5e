// The interfaces effects are performed through: dispatchers (CI), reporters (code hosts), and the
// performer that routes each outbox entry to them.
import type {
  ChatEffect,
  CoreEvent,
  DispatchSpec,
  Effect,
  MailEffect,
  RevertEffect,
  Run,
  TryTarget,
} from '../core/index.ts';
import type { TryReport } from '../report/try.ts';
import type { QueueCi } from '../config/repo.ts';
import type { ChangeTarget, VerdictReport } from '../report/model.ts';
import type { QueueFile, QueueNotice } from '../store/types.ts';

/** Feeds an event back into a queue (a CI result, a run's URL). */
export type Submit = (queue: string, event: CoreEvent, delivery?: string) => Promise<void>;

export interface DispatchContext {
  queue: string;
  file: QueueFile;
  submit: Submit;
  now: () => number;
  /** Puts a notice on the queue's page (an effect that failed for good). */
  notice?: (notice: QueueNotice) => Promise<void>;
}

/** Starts system-test runs on one kind of CI. */
export interface Dispatcher {
  /** Starts the run; must be idempotent for the run key. May return what it learnt (URL, CI id). */
  dispatch(
    run: DispatchSpec,
    ctx: DispatchContext,
  ): Promise<{ url?: string | null; ciRunId?: string | number | null } | void>;
  /** Where it sends a queue's runs, as the run records it (`jenkins:<job>`); without it, the provider. */
  target?(ci: QueueCi): string;
  /** Best-effort stop of a run that is no longer needed. */
  cancel?(key: string, ctx: DispatchContext): Promise<void>;
  /** Called on start-up for each run in flight: pick up its result again (poll) or report it lost. */
  resume?(run: Run, ctx: DispatchContext): Promise<void>;
  /** Whether a dispatch with this key already took (asked when a crash may have cut it short). */
  wasDispatched?(key: string, ctx: DispatchContext): Promise<boolean>;
}

/** Posts verdicts and command replies where people see them; one per code host. */
export interface Reporter {
  /**
   * Posts a verdict from its read model: a comment only when `report.notify` is set (the verdict is
   * one of `report.notify`), check runs and logs for every verdict.
   */
  report(report: VerdictReport, key: string): Promise<void>;
  reply?(queue: string, to: unknown, message: string, ok: boolean): Promise<void>;
  /**
   * Optional: a run was dispatched that tests `change` — every change of a new batch, or the end of a
   * probe's prefix (for example, a check run goes in_progress).
   */
  runStarted?(queue: string, change: ChangeTarget, run: DispatchSpec, url: string | null): Promise<void>;
  /** Whether the report with this key was already posted (for example, a comment with its marker exists). */
  wasReported?(key: string, change: ChangeTarget | null): Promise<boolean>;
  /** Optional: a try run of an open change went out (for example, its "ost-gate try" check run goes in_progress). */
  tryStarted?(queue: string, run: DispatchSpec & { try: TryTarget }, url: string | null): Promise<void>;
  /** Posts a try run's result on its open change, once (a retry finds its marker). */
  tryResult?(report: TryReport): Promise<void>;
}

/** What a code host needs to revert a confirmed culprit (revert/plan.ts decided it). */
export interface RevertRequest {
  queue: string;
  culprit: ChangeTarget & { title: string };
  effect: RevertEffect;
  /** The dashboard page of the culprit, with OST_PUBLIC_URL. */
  pageUrl: string | null;
}

/**
 * Opens the revert of a culprit on its code host once, or posts on the culprit why it did not (the
 * host's guards: the author's opt-out, an existing revert, a missing right); throws when a retry may work.
 */
export interface Reverter {
  revert(request: RevertRequest, key: string): Promise<void>;
}

/** Sends mail and chat effects (notify/delivery.ts); throws when a retry may work. */
export interface MessageSender {
  deliver(effect: MailEffect | ChatEffect, key: string, ctx: DispatchContext): Promise<void | { refused: string }>;
}

export interface Performer {
  /** Performs an entry; `refused`: a service refused it for good (it is done, and the dashboard says so). */
  perform(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<void | { refused: string }>;
  /** Asked on recovery for an entry that was attempted but not marked done. */
  alreadyDone(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<boolean>;
  /** Called on start-up for every run in flight. */
  resume(run: Run, ctx: DispatchContext): Promise<void>;
}

/** The idempotency key of an effect: a dispatch by run key, a report by queue, change and verdict. */
export function effectKey(queue: string, effect: Effect, unique: string): string {
  switch (effect.type) {
    case 'dispatch':
      return `dispatch:${effect.run.key}`;
    case 'cancel':
      return `cancel:${effect.key}`;
    case 'report':
      return `report:${queue}:${effect.change}:${effect.verdict.verdict}`;
    default:
      return `${effect.type}:${unique}`;
  }
}
