// The simulator's agenda: what happens next (a merge, a run's end, a fix, a wake-up), in time order,
// and in the order it was planned among things at the same time.

export interface Pending {
  t: number;
  order: number;
  kind: 'arrive' | 'finish' | 'fix' | 'missed-fix' | 'wake';
  /** A fix made forward: it repairs the break but is not a revert. */
  forward?: boolean;
  id: string;
  culprit?: boolean;
  fixes?: string;
  key?: string;
  status?: 'success' | 'failure';
  /** The change jumps the line (--priority-share). */
  priority?: boolean;
  /** With a simulated suite: the tests that failed in the run. */
  tests?: string[];
}

export class Agenda {
  private readonly items: Pending[] = [];
  private planned = 0;

  get size(): number {
    return this.items.length;
  }

  /** Plans `p` at its time, after everything already planned at that time. */
  add(p: Omit<Pending, 'order'>): void {
    const item = { ...p, order: this.planned++ };
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid]!;
      if (m.t < item.t || (m.t === item.t && m.order < item.order)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
  }

  /** The next thing to happen, taken off the agenda. */
  next(): Pending | undefined {
    return this.items.shift();
  }

  /** Takes the end of run `key` off the agenda (it was cancelled). */
  cancelRun(key: string): void {
    const i = this.items.findIndex((p) => p.kind === 'finish' && p.key === key);
    if (i >= 0) this.items.splice(i, 1);
  }
}
