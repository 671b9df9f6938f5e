// What the store keeps for each queue, and the interface any store (lowdb today, a database later) implements.
import type { CoreEvent, Effect, QueueState, VerdictRecord } from '../core/index.ts';
import type { QueueCi, RepoConfig } from '../config/repo.ts';

/** An effect decided by a step, kept until it has been performed. */
export interface OutboxEntry {
  /** Unique within the queue file. */
  id: string;
  /** Idempotency key: performing twice with the same key must have the effect of once. */
  key: string;
  effect: Effect;
  /** Written by files from before the journal; every entry found on recovery is checked with the performer. */
  attempted?: boolean;
}

/** A mail or chat message the queue sent, for the dashboard: where, about what, and whether it was refused. */
export interface SentMessage {
  at: number;
  via: 'mail' | 'chat';
  /** The addresses, or the channel. */
  to: string;
  /** `culprit`, `blocked (2 changes)`, `queue-paused`. */
  what: string;
  /** The changes it is about. */
  changes: string[];
  /** The service's answer when it refused the message for good. */
  refused?: string;
}

export interface QueueNotice {
  at: number;
  level: 'info' | 'warn' | 'error';
  code: string;
  message: string;
  change?: string;
}

/** One day's health figures of a queue (see engine/health.ts, which computes them). */
export interface DayHealth {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  runs: number;
  verdicts: number;
  failures: number;
  flakes: number;
  culprits: number;
  /** Changes that entered the queue (absent in figures from before it was counted). */
  merged?: number;
  /** The most changes waiting for a verdict after any step of the day (absent: not counted then). */
  depth?: number;
  /** Time from merge to verdict: counts per bucket of TTV_EDGES_MIN (the last bucket is open). */
  ttv: number[];
}

export interface QueueFile {
  schema: 1;
  name: string;
  state: QueueState;
  outbox: OutboxEntry[];
  /** Newest notices shown on the dashboard (bounded). */
  notices: QueueNotice[];
  /** Delivery ids of the events this queue applied (bounded), so that a redelivery changes nothing. */
  deliveries: string[];
  /** Verdicts moved to the history file so far. */
  historyMoved: number;
  ci?: QueueCi | null;
  /** The last valid repo config (report settings, command permissions), kept while a newer one is invalid. */
  repoConfig?: RepoConfig;
  /** Per-day health figures, newest last (see engine/health.ts). */
  health?: DayHealth[];
  /** Reverts opened per day (revert/plan.ts), for `revert.daily_limit`; newest last, a few days. */
  reverts?: { day: string; count: number }[];
  /** The mails and chat messages sent (or refused for good), newest last (bounded). */
  sent?: SentMessage[];
  /** Number of the last journal record this file includes (0 or absent: none). */
  journalSeq?: number;
  /**
   * Who sets the queue's settings: the repository (`github:owner/repo`, `gerrit:<host>/<project>`) whose
   * config first placed its changes here, or the server config for a declared shared queue. Absent in
   * files from before owners were recorded: the next config that places changes here claims it.
   */
  owner?: string;
}

/**
 * A queue file as readers get it (the read model, the dashboard, the APIs): the engine's own copy,
 * which only the engine changes. Readonly at its top; readers do not change what is below either.
 */
export type QueueView = Readonly<QueueFile>;

/** What a submit may set on the queue file besides its state: the CI target and the repo config. */
export interface QueueSetup {
  ci?: QueueCi | null;
  repoConfig?: RepoConfig;
  owner?: string;
}

/**
 * One line of a queue's journal. Records are numbered from 1 after the snapshot they follow; replaying
 * them in order over the snapshot (see engine/replay.ts) gives the queue's file.
 * - `step`: an event was applied; `at` is the engine's clock then, `outbox` the effects it decided.
 * - `done`: outbox entries were performed.
 * - `notice`: a notice was added without a step (a config error, say).
 */
/** A journal record before the engine numbers it. */
export type UnnumberedRecord = JournalRecord extends infer R ? (R extends unknown ? Omit<R, 'n'> : never) : never;

export type JournalRecord =
  | {
      n: number;
      type: 'step';
      at: number;
      event: CoreEvent;
      delivery?: string;
      setup?: QueueSetup;
      outbox: OutboxEntry[];
    }
  /** `at`: when; `refused`: the entries a service refused for good, with its answer (not tried again). */
  | { n: number; type: 'done'; ids: string[]; at?: number; refused?: Record<string, string> }
  | { n: number; type: 'notice'; notice: QueueNotice };

/** What the store holds for a queue: its last snapshot and the journal written after it. */
export interface StoredQueue {
  /** Null when the queue has a journal but was never snapshotted. */
  snapshot: QueueFile | null;
  /** Records after the snapshot, oldest first (records the snapshot already includes are left out). */
  journal: JournalRecord[];
  /** A last line cut short by a crash, dropped: its size and where it was. */
  torn?: { file: string; bytes: number };
}

/**
 * What a replica that does not write stores for the one that does (the PostgreSQL inbox): an event as
 * the engine would have been asked to step it, or a notice to add.
 */
export type InboxItem =
  { type: 'event'; event: CoreEvent; setup?: QueueSetup } | { type: 'notice'; notice: QueueNotice };

/** Sizes that decide when a new snapshot is due. */
export interface JournalSize {
  journalBytes: number;
  snapshotBytes: number;
}

/**
 * The persistence seam. The engine holds each queue's file in memory and writes through this
 * interface only; a database store (PostgreSQL: a journal table and a snapshot row per queue) can
 * implement it as well as the files of LowdbStore do. What an implementation must promise:
 * - `appendJournal` is durable when it resolves (the engine performs effects only after it);
 * - `writeSnapshot` is atomic and durable, and afterwards `loadQueue` returns that snapshot with only
 *   the records numbered after its `journalSeq`;
 * - a record cut short by a crash is dropped and reported in `torn`, never half applied;
 * - anything else unreadable makes `loadQueue` throw, naming what is wrong, and is never overwritten.
 */
export interface Store {
  /** The queue's snapshot and journal, or null when the queue does not exist yet. */
  loadQueue(name: string): Promise<StoredQueue | null>;
  /**
   * The journal records after record `seq`, oldest first, to bring a copy read before up to date (a
   * replica reading a queue another writes); null when a snapshot has taken records after `seq` in
   * (the copy must be read whole again) or the queue is gone. Stores without it are read whole.
   */
  journalAfter?(name: string, seq: number): Promise<JournalRecord[] | null>;
  /** Appends a record to the queue's journal, durably; returns the sizes that decide the next snapshot. */
  appendJournal(name: string, record: JournalRecord): Promise<JournalSize>;
  /** Replaces the queue's snapshot by `file` (atomically, durably), then empties its journal. */
  writeSnapshot(file: QueueFile): Promise<void>;
  /** Names of every stored queue that can be read. */
  listQueues(): Promise<string[]>;
  /** Stored queues that cannot be read (corrupt, cut short), to be reported; they are never overwritten. */
  unreadableFiles?(): Promise<{ file: string; reason: string }[]>;
  /**
   * Appends verdicts that left the queue file to its history, numbered from `firstSeq`, durably. A
   * crash between this and the next snapshot can append the same numbers twice; readers keep one of each.
   */
  appendHistory(name: string, verdicts: VerdictRecord[], firstSeq: number): Promise<void>;
  /** The newest `limit` verdicts of the history, oldest first. */
  readHistory(name: string, limit: number): Promise<VerdictRecord[]>;
  /**
   * A page of the history, newest first: up to `limit` verdicts given before `before` (ms; all when
   * undefined), plus any more given at the same time as the page's last one, so that paging by
   * time never skips a verdict. `more` says whether older ones remain.
   */
  readHistoryPage(
    name: string,
    before: number | undefined,
    limit: number,
  ): Promise<{ verdicts: VerdictRecord[]; more: boolean }>;
  /** Keeps the last lines of a run's output (a `command:` run's log), in place of what was kept before. */
  keepRunLog(key: string, text: string): Promise<void>;
  /** A run's kept log, or null when there is none. */
  readRunLog(key: string): Promise<string | null>;
  /** Releases open files; the store is not used afterwards. */
  close?(): Promise<void>;
}
