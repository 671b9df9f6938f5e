// Performing a queue's outbox: the effects a step decided (dispatches, reports, replies), written
// with the step before any is performed, each marked done in the journal once it took. An entry left
// by a crash, or tried before and failed, is first checked with the performer, so that a report that
// took before the crash is not posted twice. One drain per queue at a time; a drain asked for while
// one runs follows it. A drain in which an entry failed is tried again by itself after a backoff
// (1 s, doubling up to RETRY_MAX_MS), so that a mail server down for a minute delays its mails, and
// nothing waits for the queue's next event.
import type { Logger } from '../log.ts';
import type { QueueFile } from '../store/types.ts';
import type { DispatchContext, Performer } from './effects.ts';
import type { KeyedLock } from './lock.ts';
import type { QueueFiles } from './queue-files.ts';

/** The longest wait before a failed entry is tried again. */
export const RETRY_MAX_MS = 60_000;

export interface OutboxOptions {
  lock: KeyedLock;
  files: QueueFiles;
  performer: Performer;
  log: Logger;
  /** The dispatch context effects are performed in. */
  context: (queue: string, file: QueueFile) => DispatchContext;
  /** Whether the queue's failed entries may be tried again now (a replica that stopped writing it leaves them). */
  mayRetry: (queue: string) => boolean;
}

/**
 * An entry's place in the sets below: its queue and id. Ids are unique within a queue only (two
 * queues stepped in the same millisecond can give the same id), so the queue is part of it.
 */
const slot = (queue: string, id: string) => `${queue}\u0000${id}`;

export class Outbox {
  /** Entries being performed now, by slot. */
  private readonly inProgress = new Set<string>();
  /** Entries this process decided and has not tried yet, by slot: performed without asking whether they took. */
  private readonly unperformed = new Set<string>();
  /** Queues whose outbox is being drained, with the promise of that drain. */
  private readonly drains = new Map<string, Promise<void>>();
  /** Queues with a failed entry: how many drains in a row failed, and the timer of the next try. */
  private readonly retries = new Map<string, { failed: number; timer: NodeJS.Timeout }>();

  constructor(private readonly opts: OutboxOptions) {}

  /** Notes entries this process just decided (journaled, never tried). */
  decided(queue: string, ids: string[]): void {
    for (const id of ids) this.unperformed.add(slot(queue, id));
  }

  /** Stops the timers of the tries to come (the entries stay in the outbox). */
  stop(): void {
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
  }

  /**
   * Tries the queue's outbox again after a backoff that doubles with each drain in a row that failed,
   * or after `atLeastMs` when a service said how long to wait (a 429's Retry-After).
   */
  private retryLater(queue: string, atLeastMs: number): void {
    const failed = (this.retries.get(queue)?.failed ?? 0) + 1;
    clearTimeout(this.retries.get(queue)?.timer);
    const timer = setTimeout(
      () => {
        if (!this.opts.mayRetry(queue)) return void this.retries.delete(queue);
        void this.drain(queue).catch(() => undefined);
      },
      Math.max(Math.min(1000 * 2 ** (failed - 1), RETRY_MAX_MS), Math.min(atLeastMs, 10 * RETRY_MAX_MS)),
    );
    timer.unref();
    this.retries.set(queue, { failed, timer });
  }

  /**
   * Forgets what this process knew of the queue's entries (another replica writes it now): the ones
   * it decided are checked with their target like any other if it writes the queue again.
   */
  forget(queue: string): void {
    const prefix = slot(queue, '');
    for (const s of [...this.unperformed]) if (s.startsWith(prefix)) this.unperformed.delete(s);
    clearTimeout(this.retries.get(queue)?.timer);
    this.retries.delete(queue);
  }

  /** The queue's drain under way, if any. */
  draining(queue: string): Promise<void> | undefined {
    return this.drains.get(queue);
  }

  /** The drains under way. */
  running(): Promise<void>[] {
    return [...this.drains.values()];
  }

  /** Performs the queue's pending entries (after any drain of it under way). */
  drain(queue: string): Promise<void> {
    const running = this.drains.get(queue);
    const p = running ? running.then(() => this.drainOnce(queue)) : this.drainOnce(queue);
    this.drains.set(queue, p);
    return p.finally(() => {
      if (this.drains.get(queue) === p) this.drains.delete(queue);
    });
  }

  private async drainOnce(queue: string): Promise<void> {
    const { lock, files, performer, log } = this.opts;
    const pending = await lock.run(queue, async () => {
      const file = await files.get(queue);
      if (!file) return null;
      const todo = file.outbox.filter((e) => !this.inProgress.has(slot(queue, e.id)));
      if (todo.length === 0) return null;
      for (const e of todo) this.inProgress.add(slot(queue, e.id));
      // an entry this process made and never tried is performed at once; any other (left by a crash,
      // or tried before and failed, perhaps after it took) is first checked with the performer
      const recovered = todo.filter((e) => !this.unperformed.has(slot(queue, e.id)));
      return { file, todo, recovered: new Set(recovered.map((e) => e.id)) };
    });
    if (!pending) return;
    const done: string[] = [];
    const refused: Record<string, string> = {};
    let failures = 0;
    let wait = 0;
    const ctx = this.opts.context(queue, pending.file);
    for (const entry of pending.todo) {
      try {
        if (pending.recovered.has(entry.id) && (await performer.alreadyDone(entry, ctx)))
          log.info({ queue, key: entry.key }, 'effect had taken before the restart; not repeated');
        else {
          const outcome = await performer.perform(entry, ctx);
          if (outcome) refused[entry.id] = outcome.refused;
        }
        done.push(entry.id);
      } catch (err) {
        failures++;
        wait = Math.max(wait, (err as { retryAfterMs?: number }).retryAfterMs ?? 0);
        log.error(
          { queue, key: entry.key, err: (err as Error).message },
          'effect failed; it stays in the outbox and is retried',
        );
      } finally {
        this.inProgress.delete(slot(queue, entry.id));
        this.unperformed.delete(slot(queue, entry.id));
      }
    }
    if (failures) this.retryLater(queue, wait);
    else {
      clearTimeout(this.retries.get(queue)?.timer);
      this.retries.delete(queue);
    }
    if (done.length === 0) return;
    await lock.run(queue, async () => {
      const file = await files.get(queue);
      const record = { type: 'done' as const, ids: done, at: ctx.now() };
      if (file) await files.append(file, Object.keys(refused).length ? { ...record, refused } : record);
    });
  }
}
