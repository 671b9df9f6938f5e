// A lease in PostgreSQL: one holder at a time, until it expires by the database's clock. Each time
// the lease changes hands its fencing token grows; writes made under the lease carry the token, and
// the database refuses them once the token is no longer the lease's (pg-store.ts). A holder that was
// paused past its lease (SIGSTOP, a long GC, a network cut) thus writes nothing when it wakes up.
import type pg from 'pg';

export interface LeaseHolding {
  holder: string;
  token: string;
  /** When the lease runs out (ms since the epoch, the database's clock). */
  expiresAt: number;
}

export class Lease {
  private held: LeaseHolding | null = null;

  constructor(
    private readonly pool: pg.Pool,
    /** The lease's name: `sources` for the watchers (queue leases are kept by queue-leases.ts). */
    readonly name: string,
    /** Who asks: unique per process (host, pid and a random part). */
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  /**
   * The token of the lease while this process holds it, else null; also null once the lease may have
   * run out by this process's own clock (a pause past it: its writes and effects stop at once).
   */
  token(): string | null {
    return this.held && Date.now() < this.localDeadline ? this.held.token : null;
  }

  /** When the lease runs out at the earliest, by this process's clock (set before each query that extends it). */
  private localDeadline = 0;

  /**
   * Takes the lease when it is free or has expired (with a new token). Returns null when it got it,
   * else who holds it and until when.
   */
  async acquire(): Promise<LeaseHolding | null> {
    const asked = Date.now();
    const taken = await this.pool.query<{ token: string; expires_at: Date }>(
      `INSERT INTO ost_leases (name, holder, token, expires_at)
       VALUES ($1, $2, nextval('ost_fencing_tokens'), now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE
         SET holder = EXCLUDED.holder, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
         WHERE ost_leases.expires_at < now()
       RETURNING token, expires_at`,
      [this.name, this.holder, this.ttlMs],
    );
    const row = taken.rows[0];
    if (row) {
      this.held = { holder: this.holder, token: String(row.token), expiresAt: row.expires_at.getTime() };
      this.localDeadline = asked + this.ttlMs;
      return null;
    }
    return this.current();
  }

  /** Who holds the lease and until when, or null when nobody does. */
  async current(): Promise<LeaseHolding | null> {
    const rows = await this.pool.query<{ holder: string; token: string; expires_at: Date }>(
      'SELECT holder, token, expires_at FROM ost_leases WHERE name = $1',
      [this.name],
    );
    const row = rows.rows[0];
    return row ? { holder: row.holder, token: String(row.token), expiresAt: row.expires_at.getTime() } : null;
  }

  /**
   * Extends the lease by its time to live while its token is still this process's (even after it ran
   * out, when nobody took it meanwhile: nobody else wrote). False when another holder has it now.
   */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    const asked = Date.now();
    const renewed = await this.pool.query<{ expires_at: Date }>(
      `UPDATE ost_leases SET expires_at = now() + $3 * interval '1 millisecond'
       WHERE name = $1 AND token = $2 RETURNING expires_at`,
      [this.name, this.held.token, this.ttlMs],
    );
    const row = renewed.rows[0];
    if (!row) {
      this.held = null;
      return false;
    }
    this.held.expiresAt = row.expires_at.getTime();
    this.localDeadline = asked + this.ttlMs;
    return true;
  }

  /** Gives the lease up (a clean stop), so that another replica need not wait for it to expire. */
  async release(): Promise<void> {
    if (!this.held) return;
    const token = this.held.token;
    this.held = null;
    await this.pool.query(
      `UPDATE ost_leases SET expires_at = now() - interval '1 second' WHERE name = $1 AND token = $2`,
      [this.name, token],
    );
  }
}
