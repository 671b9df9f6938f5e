// What the store keeps for each queue, and the interface any store (lowdb today, a database later) implements.
import type { Effect, QueueState, VerdictRecord } from '../core/index.ts';
import type { QueueCi, RepoConfig } from '../config/repo.ts';

/** An effect decided by a step, kept until it has been performed. */
export interface OutboxEntry {
  /** Unique within the queue file. */
  id: string;
  /** Idempotency key: performing twice with the same key must have the effect of once. */
  key: string;
  effect: Effect;
  /** Set, durably, before the effect is first performed (it is written set); on recovery the performer is asked whether it took. */
  attempted: boolean;
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
}

export interface Store {
  /** The queue's file, or null when the queue does not exist yet. */
  loadQueue(name: string): Promise<QueueFile | null>;
  /** Writes the whole queue file atomically: after a crash either the old or the new file is there. */
  saveQueue(file: QueueFile): Promise<void>;
  /** Names of every stored queue that can be read. */
  listQueues(): Promise<string[]>;
  /** Stored queues that cannot be read (corrupt, cut short), to be reported; they are never overwritten. */
  unreadableFiles?(): Promise<{ file: string; reason: string }[]>;
  /**
   * Appends verdicts that left the queue file to its history, numbered from `firstSeq`. A crash
   * between this and the next save can append the same numbers twice; readers keep one of each.
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
  /** Where a run may keep its output log. */
  runLogPath(key: string): string;
}
