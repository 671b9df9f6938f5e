// One timer per queue that wakes it when a change held for company (`batch.hold`) is due, so that the
// change goes out on time whatever the server's tick interval (and in a process without a ticker).
import { heldUntil, type QueueState } from '../core/index.ts';

export class WakeTimers {
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  /**
   * @param now the engine's clock
   * @param wake called with the queue's name when its held change is due (the engine ticks it)
   */
  constructor(
    private readonly now: () => number,
    private readonly wake: (queue: string) => void,
  ) {}

  /** Sets, moves or clears `queue`'s timer after a step, from when its held change (if any) is due. */
  update(queue: string, state: QueueState): void {
    const until = heldUntil(state);
    const current = this.timers.get(queue);
    if (current && current.at === until) return;
    if (current) clearTimeout(current.timer);
    this.timers.delete(queue);
    if (until === null) return;
    // one millisecond late, so that the tick's time is past the hold
    const timer = setTimeout(
      () => {
        this.timers.delete(queue);
        this.wake(queue);
      },
      Math.max(0, until - this.now()) + 1,
    );
    timer.unref();
    this.timers.set(queue, { at: until, timer });
  }

  /** Stops the queue's timer (another replica writes it now). */
  cancel(queue: string): void {
    clearTimeout(this.timers.get(queue)?.timer);
    this.timers.delete(queue);
  }

  /** Stops every timer (the engine is closing). */
  clear(): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
