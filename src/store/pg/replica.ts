// A replica's part on a shared PostgreSQL database, decided by leases: each queue is written by the
// replica that holds its lease (it steps the queue, applies its inbox, performs its effects), and the
// queues are shared out among the replicas alive, about as many each; the watchers (git, Gerrit
// stream-events) run on the replica that holds the `sources` lease. Eight times per lease the
// replica renews what it holds, takes free queues up to its share and gives idle ones up above it, so
// a dead replica's queues move within about one lease. A queue whose lease was lost (this process was
// paused or cut off past it) stops being written here at once; its writes meanwhile were refused by the
// database (fencing, pg-store.ts).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../../log.ts';
import { Lease } from './lease.ts';
import { census, leaveCensus, QueueLeases } from './queue-leases.ts';

/** The watchers' lease in ost_leases. */
export const SOURCES_LEASE = 'sources';
/** How long a lease lasts unless renewed: a dead replica's queues move once their leases run out. */
export const DEFAULT_LEASE_MS = 6_000;
/**
 * Beats per lease: each renews what the replica holds and takes what ran out. With eight, a late beat
 * still has seven eighths of the lease, for three small queries a beat. A dead replica's queues are
 * taken by an extra beat as soon as their leases run out.
 */
const BEATS_PER_LEASE = 8;
/** How long after a dead replica's lease runs out (by the database's clock) the extra beat comes. */
const WAKE_MARGIN_MS = 20;

/** What the server does as this replica's part changes (each called outside the beats, one at a time). */
export interface ReplicaHooks {
  /** This replica took the sources lease: start the watchers. */
  sourcesStarted(): Promise<void>;
  /** Another replica (`holder`) has the sources lease now: stop the watchers. */
  sourcesStopped(holder: string): Promise<void>;
  /** This replica took these queues' leases: recover them; once this resolves, they are written here. */
  queuesGained(queues: string[]): Promise<void>;
  /** Another replica took these queues' leases: forget what this one held of them. */
  queuesLost(queues: string[]): Promise<void>;
  /** Whether a queue may move to another replica now (nothing of it in flight here). */
  mayMove(queue: string): Promise<boolean>;
  /** A queue is about to move: resolves once what this replica was doing for it has ended. */
  queueLeaving(queue: string): Promise<void>;
  /**
   * Applies what waits in the inbox for queues being taken over (their leases held, not written yet);
   * rejects when some of it cannot be applied now.
   */
  catchUp(queues: string[]): Promise<void>;
}

export interface ReplicaOptions {
  pool: pg.Pool;
  log: Logger;
  ttlMs: number;
}

export class Replica {
  readonly name = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly sources: Lease;
  readonly queueLeases: QueueLeases;
  /** Queues written here: their leases held and their recovery done. */
  private readonly ready = new Set<string>();
  /** Queues being given up: still held (and renewed) until their work here has ended. */
  private readonly leaving = new Set<string>();
  private watching = false;
  private timer: NodeJS.Timeout | null = null;
  /** A beat asked for when a dead replica's first queue lease runs out, between the regular beats. */
  private wake: { at: number; timer: NodeJS.Timeout } | null = null;
  private beating: Promise<void> | null = null;
  /** Changes of part under way, one after another, outside the beats (renewals go on meanwhile). */
  private change: Promise<void> = Promise.resolve();
  /** How many queues there were, and replicas alive, at the last beat; the queues by name. */
  private seen = { queues: 0, replicas: 1 };
  private known = new Set<string>();
  private hooks: ReplicaHooks | null = null;
  /** Items this replica stored in the inbox per queue: how many it began, and how many are being stored now. */
  private readonly forwards = { started: new Map<string, number>(), inFlight: new Map<string, number>() };

  constructor(private readonly opts: ReplicaOptions) {
    this.sources = new Lease(opts.pool, SOURCES_LEASE, this.name, opts.ttlMs);
    this.queueLeases = new QueueLeases(opts.pool, this.name, opts.ttlMs);
  }

  /** Takes a first part at once (once the server is wired: `hooks` start and stop its work), then beats. */
  async start(hooks: ReplicaHooks): Promise<void> {
    this.hooks = hooks;
    await this.beat();
    await this.settled();
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(this.opts.ttlMs / BEATS_PER_LEASE)));
    this.timer.unref();
  }

  /** Whether this replica writes the queue now (its lease held, its recovery done, not moving away). */
  writes(queue: string): boolean {
    return this.ready.has(queue) && this.queueLeases.token(queue) !== null;
  }

  /** Whether this replica holds the queue's lease (it writes the queue, takes it over or is giving it up). */
  holds(queue: string): boolean {
    return this.queueLeases.token(queue) !== null;
  }

  /**
   * Stores an item for a queue another replica writes (`put`), counted: a queue taken over is written here only once
   * every item this replica stored for it before has been applied. A new queue is shared out at once.
   */
  async forward<T>(queue: string, put: () => Promise<T>): Promise<T> {
    this.forwards.started.set(queue, (this.forwards.started.get(queue) ?? 0) + 1);
    this.forwards.inFlight.set(queue, (this.forwards.inFlight.get(queue) ?? 0) + 1);
    try {
      return await put();
    } finally {
      const left = this.forwards.inFlight.get(queue)! - 1;
      void (left ? this.forwards.inFlight.set(queue, left) : this.forwards.inFlight.delete(queue));
      if (this.timer && !this.known.has(queue)) void this.beat();
    }
  }

  /** The queues written here now. */
  written(): string[] {
    return [...this.ready].filter((q) => this.writes(q));
  }

  /** Whether this replica runs the watchers now. */
  watches(): boolean {
    return this.watching;
  }

  /** What this replica does, for /healthz and the log. */
  summary(): { name: string; queues: string[]; of: number; replicas: number; sources: boolean } {
    const { queues: of, replicas } = this.seen;
    return { name: this.name, queues: this.written().sort(), of, replicas, sources: this.watching };
  }

  /** One beat (never two at a time); a failure is logged, and the next beat tries again. */
  beat(): Promise<void> {
    this.beating ??= this.beatOnce()
      .catch((err: Error) =>
        this.opts.log.warn({ err: err.message }, 'the leases could not be checked now; trying again'),
      )
      .finally(() => {
        this.beating = null;
      });
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    if (!this.hooks) return;
    const { pool, ttlMs } = this.opts;
    // a replica counts as alive while it beat within half a lease: a dead one stops counting before its leases run out
    const seen = await census(pool, this.name, ttlMs / 2);
    if (seen.orphanedInMs !== null) this.wakeIn(seen.orphanedInMs + WAKE_MARGIN_MS);
    this.seen = { queues: seen.queues.length, replicas: seen.replicas };
    this.known = new Set(seen.queues);
    await this.keepSources();
    const lost = await this.queueLeases.renew();
    if (lost.length) this.lose(lost);
    const share = Math.ceil(seen.queues.length / seen.replicas);
    const held = this.queueLeases.queues();
    const staying = held.length - this.leaving.size;
    // free queues up to the share; a dead replica's only the eldest replica takes, whatever its share
    const mine = new Set(held);
    const others = seen.queues.filter((q) => !mine.has(q));
    const gained = await this.queueLeases.take(others, share - staying, { aliveMs: ttlMs / 2, eldest: seen.eldest });
    if (gained.length) this.gain(gained);
    else if (staying > share) await this.giveUp(staying - share);
  }

  /** Beats once more in `ms` (unless an earlier such beat is due), between the regular beats. */
  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (!this.hooks || (this.wake && this.wake.at <= at)) return;
    const timer = setTimeout(() => {
      this.wake = null;
      void this.beat();
    }, ms);
    timer.unref();
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = { at, timer };
  }

  /** Renews the sources lease, or takes it when free; starts or stops the watchers as that changes. */
  private async keepSources(): Promise<void> {
    if (this.watching) {
      if (await this.sources.renew()) return;
      this.watching = false;
      const holder = (await this.sources.current().catch(() => null))?.holder ?? 'another replica';
      this.opts.log.error({ holder }, `this replica lost the sources lease to ${holder}: it stops its watchers`);
      this.afterOthers('stopping the watchers', () => this.hooks!.sourcesStopped(holder));
      return;
    }
    if ((await this.sources.acquire()) !== null) return;
    this.watching = true;
    this.opts.log.info({ replica: this.name }, 'this replica took the sources lease: it runs the watchers');
    this.afterOthers(
      'starting the watchers',
      () => this.hooks!.sourcesStarted(),
      async () => {
        this.watching = false;
        await this.sources.release();
      },
    );
  }

  /**
   * Queues taken: recovered, what waited in the inbox for them applied, then written here. If the
   * recovery fails they are given up for another replica to try.
   */
  private gain(queues: string[]): void {
    this.opts.log.info(
      { queues: queues.length, replica: this.name },
      `this replica writes ${queues.length} more queue(s) now`,
    );
    this.afterOthers(
      'taking over queues',
      async () => {
        await this.hooks!.queuesGained(queues);
        // each queue is written here as soon as its own inbox is applied, not after the slowest one's
        await Promise.all(
          queues.map(async (q) => {
            await this.caughtUp([q]);
            if (this.holds(q)) this.ready.add(q);
          }),
        );
      },
      () => this.queueLeases.release(queues),
    );
  }

  /**
   * Applies what waits in the inbox for the queues until nothing this replica stored for them can be
   * missing: no item of theirs was being stored when the inbox was read, and none began since. Then
   * (in the same turn of the event loop) they can be written here without passing what came before.
   */
  private async caughtUp(queues: string[]): Promise<void> {
    const began = () => queues.reduce((n, q) => n + (this.forwards.started.get(q) ?? 0), 0);
    for (;;) {
      while (queues.some((q) => this.forwards.inFlight.has(q))) await new Promise((ok) => setTimeout(ok, 5));
      const before = began();
      await this.hooks!.catchUp(queues);
      if (began() === before && !queues.some((q) => this.forwards.inFlight.has(q))) return;
    }
  }

  /** Queues another replica took: they stop being written here at once. */
  private lose(queues: string[]): void {
    for (const q of queues) this.ready.delete(q);
    this.opts.log.error(
      { queues },
      `this replica lost the leases of ${queues.length} queue(s) (it was paused or cut off past them): it stops writing them`,
    );
    this.afterOthers('letting queues go', () => this.hooks!.queuesLost(queues));
  }

  /** Gives up to `count` idle queues up, for replicas with fewer to take. */
  private async giveUp(count: number): Promise<void> {
    const idle: string[] = [];
    for (const q of this.ready) {
      if (idle.length === count) break;
      if (!this.leaving.has(q) && (await this.hooks!.mayMove(q))) idle.push(q);
    }
    if (idle.length === 0) return;
    for (const q of idle) {
      this.ready.delete(q);
      this.leaving.add(q);
    }
    this.opts.log.info({ queues: idle }, `this replica gives ${idle.length} queue(s) up for replicas with fewer`);
    this.afterOthers('giving queues up', async () => {
      try {
        for (const q of idle) await this.hooks!.queueLeaving(q);
        await this.queueLeases.release(idle);
      } finally {
        for (const q of idle) this.leaving.delete(q);
      }
    });
  }

  /** Runs a change of part after those before it; on failure logs it and runs `undo`. */
  private afterOthers(what: string, work: () => Promise<void>, undo?: () => Promise<void>): void {
    this.change = this.change.then(() =>
      work().catch(async (err: Error) => {
        this.opts.log.error(
          { err: err.message },
          `${what} failed${undo ? '; given up for another replica to try' : ''}`,
        );
        await undo?.().catch(() => undefined);
      }),
    );
  }

  /** Resolves when the changes of part under way are done. */
  settled(): Promise<void> {
    return this.change;
  }

  /** Stops beating (a clean stop): this replica's part changes no more; its leases are still held. */
  async quiet(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = null;
    await this.beating;
    await this.change;
    this.hooks = null;
  }

  /** Stops beating and gives every lease up, so that the other replicas need not wait for them to run out. */
  async leave(): Promise<void> {
    await this.quiet();
    this.ready.clear();
    this.watching = false;
    const { pool, log } = this.opts;
    await Promise.all([
      this.queueLeases.release(this.queueLeases.queues()),
      this.sources.release(),
      leaveCensus(pool, this.name),
    ]).catch((err: Error) => log.warn({ err: err.message }, 'the leases were not all given up'));
  }
}
