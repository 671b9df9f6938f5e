// Queues moving between replicas on PostgreSQL: a replica that takes a queue over forgets what it
// held of it and recovers it from the store; one that gives a queue up lets what runs for it end
// first; one that lost a queue's lease drops its copy, timers and retries at once.
import type { KeyedLock } from './lock.ts';
import type { Outbox } from './outbox.ts';
import type { QueueFiles } from './queue-files.ts';
import type { ReadModel } from './read-model.ts';
import type { WakeTimers } from './wake-timers.ts';

export interface QueueMovesParts {
  lock: KeyedLock;
  files: QueueFiles;
  outbox: Outbox;
  wakes: WakeTimers;
  reads: ReadModel;
  /** Performs the queues' pending effects again and picks up their runs in flight. */
  recover: (queues: string[]) => Promise<void>;
}

export class QueueMoves {
  constructor(private readonly parts: QueueMovesParts) {}

  /** Takes queues over: forgets what this process held of them, then recovers them from the store. */
  async adopt(queues: string[]): Promise<void> {
    this.letGo(queues);
    await this.parts.recover(queues);
  }

  /** Stops writing queues another replica writes now: their copies, timers and retries are dropped here. */
  letGo(queues: string[]): void {
    for (const queue of queues) {
      this.parts.wakes.cancel(queue);
      this.parts.outbox.forget(queue);
      this.parts.reads.forget(queue);
    }
  }

  /** Resolves once nothing runs for the queue here: no step, no effect being performed. */
  async settle(queue: string): Promise<void> {
    for (;;) {
      await this.parts.lock.run(queue, async () => undefined);
      const drain = this.parts.outbox.draining(queue);
      if (!drain) return;
      await drain.catch(() => undefined);
    }
  }

  /**
   * Whether the queue has something in flight here: a run out at a CI (a command runner's run lives
   * in this process), or effects decided and not performed yet. Such a queue does not move by choice.
   */
  async busy(queue: string): Promise<boolean> {
    const file = await this.parts.files.get(queue).catch(() => null);
    if (!file) return false;
    const running = Object.values(file.state.runs).some((r) => r.state === 'dispatched' || r.state === 'running');
    return running || file.outbox.length > 0;
  }
}
