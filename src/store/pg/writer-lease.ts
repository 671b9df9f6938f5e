// The server's writer lease on a PostgreSQL database: one replica writes at a time. It is taken at
// start-up (waiting out the lease of a replica that died), renewed four times per lease, and given up
// at a clean stop. A replica that finds it taken by another (the other was paused past its lease)
// writes nothing more: every write is fenced by the lease's token (pg-store.ts), and /healthz says so.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { SetupError } from '../../config/setup-error.ts';
import type { Logger } from '../../log.ts';
import { Lease } from './lease.ts';

/** The lease's name in ost_leases. */
export const WRITER_LEASE = 'writer';
/** How long the lease lasts unless renewed: a dead replica's successor starts within this (and a bit). */
export const DEFAULT_LEASE_MS = 8_000;

export interface WriterLeaseOptions {
  pool: pg.Pool;
  log: Logger;
  ttlMs: number;
  /** Told when the lease is lost to another replica (for /healthz). */
  onLost: (holder: string) => void;
}

export interface WriterLease {
  lease: Lease;
  /** Stops renewing and gives the lease up. */
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Takes the writer lease, waiting out one that a dead replica left; refuses when its holder is alive. */
export async function takeWriterLease(opts: WriterLeaseOptions): Promise<WriterLease> {
  const { pool, log, ttlMs } = opts;
  const lease = new Lease(pool, WRITER_LEASE, `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`, ttlMs);
  let held = await lease.acquire();
  if (held) {
    log.warn(
      { holder: held.holder },
      `replica ${held.holder} held the writer lease; waiting up to ${Math.ceil(ttlMs / 1000)} s for it to run out`,
    );
    const first = held;
    for (let waited = 0; held && held.holder === first.holder && waited < ttlMs + 1000; waited += 250) {
      await sleep(250);
      held = await lease.acquire();
    }
    if (held)
      throw new SetupError(
        `OST_DATABASE_URL: replica ${held.holder} is writing to this database and keeps its lease: ` +
          'ost-gate runs one replica per database for now; stop the other one, or point OST_DATABASE_URL at another database',
      );
  }
  log.info({ holder: lease.holder, token: lease.token() }, 'this replica holds the writer lease');
  let lost = false;
  const renew = async () => {
    try {
      if (lost || (await lease.renew())) return;
      lost = true;
      const now = await lease.current().catch(() => null);
      const holder = now?.holder ?? 'another replica';
      log.error(
        { holder },
        `this replica lost the writer lease to ${holder} (it was paused or cut off past its lease): it writes nothing from now on; restart it`,
      );
      opts.onLost(holder);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the writer lease could not be renewed now; trying again');
    }
  };
  const timer = setInterval(() => void renew(), Math.max(100, Math.floor(ttlMs / 4)));
  timer.unref();
  return {
    lease,
    async release() {
      clearInterval(timer);
      await lease.release().catch((err: Error) => log.warn({ err: err.message }, 'the writer lease was not given up'));
    },
  };
}
