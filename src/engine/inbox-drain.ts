// The side of the inbox of the replica that writes a queue: what other replicas accepted for the
// queues written here is taken in the order it came and applied, each queue's items one after another and different queues side by side; an applied item is
// deleted. An item that cannot be applied (a queue another repository owns, a bug) is kept aside with
// why; when the store cannot be written or read now (the database is down, the lease was lost) that
// queue's items wait for the next round.
import type { Logger } from '../log.ts';
import { QueueUnavailableError, StoreWriteError } from '../store/errors.ts';
import type { InboxItem } from '../store/types.ts';
import type { Engine } from './engine.ts';

/** The inbox as the drain uses it (store/pg/inbox.ts). */
export interface InboxSource {
  next(limit: number, queues: string[]): Promise<{ id: string; queue: string; delivery: string; item: InboxItem }[]>;
  applied(id: string): Promise<void>;
  failed(id: string, reason: string): Promise<void>;
}

/**
 * Whether applying failed because of the store, not the item: it cannot be written or read now (the
 * database is down or restarting, the lease was lost), or a connection failed. Such an item waits for
 * the next round; only one that cannot be applied at all is kept aside.
 */
function transient(err: unknown): boolean {
  return (
    err instanceof StoreWriteError ||
    err instanceof QueueUnavailableError ||
    typeof (err as { code?: unknown } | null)?.code === 'string'
  );
}

/** Items taken per round. */
const BATCH = 200;

export class InboxDrain {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<number> | null = null;

  constructor(
    private readonly opts: {
      inbox: InboxSource;
      engine: Engine;
      log: Logger;
      intervalMs: number;
      /** The queues this replica writes now (their items are taken; the others wait for their writers). */
      queues: () => string[];
    },
  ) {}

  /** Drains now and then every `intervalMs`, until stopped. */
  start(): void {
    if (this.timer) return;
    void this.drainOnce();
    this.timer = setInterval(() => void this.drainOnce(), this.opts.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.round;
  }

  /** One round (never two at a time): every item waiting now; returns how many were applied. */
  drainOnce(): Promise<number> {
    this.round ??= this.drain()
      .then((r) => r.applied)
      .catch((err: Error) => {
        this.opts.log.warn({ err: err.message }, 'the inbox could not be read now; trying again');
        return 0;
      })
      .finally(() => {
        this.round = null;
      });
    return this.round;
  }

  /**
   * Applies every item waiting for `queues` (being taken over: not in this drain's rounds yet); rejects
   * when the store stopped it, so that the queues are not written here with items left behind.
   */
  async catchUp(queues: string[]): Promise<void> {
    const { stopped } = await this.drain(queues);
    if (stopped)
      throw new Error(`the inbox of ${queues.length} queue(s) being taken over could not all be applied now`);
  }

  private async drain(queues = this.opts.queues()): Promise<{ applied: number; stopped: boolean }> {
    let applied = 0;
    for (;;) {
      const rows = await this.opts.inbox.next(BATCH, queues);
      if (rows.length === 0) return { applied, stopped: false };
      const byQueue = new Map<string, typeof rows>();
      for (const row of rows) byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row]);
      const results = await Promise.all([...byQueue.values()].map((items) => this.applyInOrder(items)));
      applied += results.reduce((a, b) => a + b.applied, 0);
      const stopped = results.some((r) => r.stopped);
      if (stopped || rows.length < BATCH) return { applied, stopped };
    }
  }

  /** Applies one queue's items in order; stops at one the store could not write. */
  private async applyInOrder(
    rows: { id: string; queue: string; delivery: string; item: InboxItem }[],
  ): Promise<{ applied: number; stopped: boolean }> {
    let applied = 0;
    for (const row of rows) {
      try {
        await this.opts.engine.applyForwarded(row.queue, row.item, row.delivery);
      } catch (err) {
        if (transient(err)) {
          this.opts.log.warn(
            { queue: row.queue, inbox: row.id, err: (err as Error).message },
            'an inbox item cannot be applied now (the store); it is tried again',
          );
          return { applied, stopped: true };
        }
        const reason = (err as Error).message;
        this.opts.log.error(
          { queue: row.queue, inbox: row.id, err: reason },
          'an inbox item could not be applied; kept aside',
        );
        await this.opts.inbox.failed(row.id, reason);
        continue;
      }
      await this.opts.inbox.applied(row.id);
      applied++;
    }
    return { applied, stopped: false };
  }
}
