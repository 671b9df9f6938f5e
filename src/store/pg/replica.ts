// A replica's part on a shared PostgreSQL database, decided by the writer lease: the replica that
// holds it steps the queues, performs their effects and runs the watchers; the others serve reads and
// store what they accept in the inbox. Every quarter of the lease the writer renews it and the others
// try to take it, so a dead writer's part moves within about one lease. A writer that finds its lease
// gone (it was paused or cut off past it) stops writing, and goes on as one of the others; its writes
// meanwhile were refused by the database (fencing, pg-store.ts).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../../log.ts';
import { Lease } from './lease.ts';

/** The lease's name in ost_leases. */
export const WRITER_LEASE = 'writer';
/** How long the lease lasts unless renewed: a dead writer's part moves within this and a quarter. */
export const DEFAULT_LEASE_MS = 8_000;

export interface ReplicaOptions {
  pool: pg.Pool;
  log: Logger;
  ttlMs: number;
  /** This replica took the lease (not called for the first try at start-up: see isWriter()). */
  onPromoted: () => Promise<void>;
  /** This replica lost the lease to `holder`. */
  onDemoted: (holder: string) => Promise<void>;
}

export class Replica {
  readonly lease: Lease;
  private writer = false;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  /** A promotion or demotion under way (run outside the beats, so that renewals go on meanwhile). */
  private change: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: ReplicaOptions) {
    this.lease = new Lease(
      opts.pool,
      WRITER_LEASE,
      `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
      opts.ttlMs,
    );
  }

  /** Joins the database: takes the lease when it is free, and keeps trying (or renewing) from then on. */
  static async join(opts: ReplicaOptions): Promise<Replica> {
    const replica = new Replica(opts);
    const holder = await replica.lease.acquire();
    replica.writer = holder === null;
    if (replica.writer) opts.log.info({ replica: replica.name }, 'this replica holds the writer lease: it writes');
    else
      opts.log.info(
        { replica: replica.name, writer: holder!.holder },
        `replica ${holder!.holder} writes; this one serves reads, stores what it accepts for it, and takes over if it stops`,
      );
    replica.timer = setInterval(() => void replica.beat(), Math.max(100, Math.floor(opts.ttlMs / 4)));
    replica.timer.unref();
    return replica;
  }

  /** This replica's name in the lease table and the logs. */
  get name(): string {
    return this.lease.holder;
  }

  isWriter(): boolean {
    return this.writer;
  }

  /** One beat (never two at a time): the writer renews the lease, the others try to take it. */
  beat(): Promise<void> {
    this.beating ??= this.renewOrTake()
      .catch((err: Error) =>
        this.opts.log.warn({ err: err.message }, 'the writer lease could not be checked now; trying again'),
      )
      .finally(() => {
        this.beating = null;
      });
    return this.beating;
  }

  private async renewOrTake(): Promise<void> {
    if (this.writer) {
      if (await this.lease.renew()) return;
      this.writer = false;
      const holder = (await this.lease.current().catch(() => null))?.holder ?? 'another replica';
      this.opts.log.error(
        { holder },
        `this replica lost the writer lease to ${holder} (it was paused or cut off past its lease): it stops writing and goes on as a reader`,
      );
      this.change = this.change.then(() =>
        this.opts
          .onDemoted(holder)
          .catch((err: Error) => this.opts.log.error({ err: err.message }, "stopping the writer's work failed")),
      );
      return;
    }
    if ((await this.lease.acquire()) !== null) return;
    this.writer = true;
    this.opts.log.warn({ replica: this.name }, 'this replica took the writer lease: it writes from now on');
    this.change = this.change.then(() => this.promote());
  }

  /** Starts the writer's work; when that fails, the lease is given up for another replica to try. */
  private async promote(): Promise<void> {
    try {
      await this.opts.onPromoted();
    } catch (err) {
      this.opts.log.error(
        { err: (err as Error).message },
        'this replica could not start writing; it gives the writer lease up and tries again later',
      );
      this.writer = false;
      await this.lease.release().catch(() => undefined);
    }
  }

  /** Resolves when a promotion or demotion under way is done. */
  settled(): Promise<void> {
    return this.change;
  }

  /** Stops beating and gives the lease up, so that another replica need not wait for it to run out. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.change.catch(() => undefined);
    this.writer = false;
    await this.lease
      .release()
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'the writer lease was not given up'));
  }
}
