// The leases of the queues one replica writes: each queue's lease (`queue:<name>` in ost_leases) is
// held by one replica at a time, with a fencing token that grows each time it changes hands, as for
// the sources lease (lease.ts). Renewing, taking and giving up are one statement each for all of
// this replica's queues, so that a beat costs the same for 5 queues or 500.
import type pg from 'pg';

/** A queue's lease name in ost_leases. */
export const queueLeaseName = (queue: string): string => `queue:${queue}`;

const PREFIX = 'queue:';

/** SQL: a replica's row (`ost_replicas`) was seen within the milliseconds in parameter `ms`: it is alive. */
const aliveWithin = (ms: string): string => `seen_at > now() - ${ms} * interval '1 millisecond'`;

/** SQL: the holder of lease row `l` is no replica alive (see `aliveWithin`). */
const holderDead = (ms: string): string =>
  `NOT EXISTS (SELECT 1 FROM ost_replicas r WHERE r.name = l.holder AND r.${aliveWithin(ms)})`;

interface Held {
  token: string;
  /** When the lease runs out at the earliest, by this process's clock. */
  deadline: number;
}

export class QueueLeases {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly pool: pg.Pool,
    /** This replica's name (unique per process). */
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  /**
   * The token of the queue's lease while this replica holds it; null when it does not, or when the
   * lease may have run out by this process's clock (a pause past it: writes and effects stop at once).
   */
  token(queue: string): string | null {
    const held = this.held.get(queue);
    return held && Date.now() < held.deadline ? held.token : null;
  }

  /** The queues whose leases this replica holds. */
  queues(): string[] {
    return [...this.held.keys()];
  }

  /** Extends every lease this replica holds; returns the queues whose leases another replica has now. */
  async renew(): Promise<string[]> {
    if (this.held.size === 0) return [];
    const asked = Date.now();
    const names = this.queues();
    const renewed = await this.pool.query<{ name: string }>(
      `UPDATE ost_leases l SET expires_at = now() + $3 * interval '1 millisecond'
       FROM unnest($1::text[], $2::bigint[]) AS h(name, token)
       WHERE l.name = h.name AND l.token = h.token RETURNING l.name`,
      [names.map(queueLeaseName), names.map((q) => this.held.get(q)!.token), this.ttlMs],
    );
    const kept = new Set(renewed.rows.map((r) => r.name.slice(PREFIX.length)));
    const lost = names.filter((q) => !kept.has(q));
    for (const q of lost) this.held.delete(q);
    for (const q of kept) this.held.get(q)!.deadline = asked + this.ttlMs;
    return lost;
  }

  /**
   * Takes at most `max` of `queues` whose leases are free or were given up by a replica alive (seen
   * within `aliveMs`). The leases that ran out in the hands of a replica no longer alive (dead, or
   * stalled) only the eldest replica takes (`eldest`), every one of them, even past `max`: they move on
   * by choice later. New tokens; returns the queues taken.
   */
  async take(queues: string[], max: number, who: { aliveMs: number; eldest: boolean }): Promise<string[]> {
    if (queues.length === 0) return [];
    const asked = Date.now();
    const taken = await this.pool.query<{ name: string; token: string }>(
      `WITH candidates AS (
         SELECT $4 || q.name AS name,
           l.name IS NOT NULL AND ${holderDead('$6')} AS orphaned
         FROM unnest($1::text[]) AS q(name)
         LEFT JOIN ost_leases l ON l.name = $4 || q.name
         WHERE l.name IS NULL OR l.expires_at < now()),
       free AS (
         SELECT name FROM candidates WHERE orphaned AND $7
         UNION (SELECT name FROM candidates WHERE NOT orphaned ORDER BY random() LIMIT greatest($2, 0)))
       INSERT INTO ost_leases (name, holder, token, expires_at)
       SELECT name, $3, nextval('ost_fencing_tokens'), now() + $5 * interval '1 millisecond' FROM free
       ON CONFLICT (name) DO UPDATE
         SET holder = EXCLUDED.holder, token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
         WHERE ost_leases.expires_at < now()
       RETURNING name, token`,
      [queues, max, this.holder, PREFIX, this.ttlMs, who.aliveMs, who.eldest],
    );
    const gained = taken.rows.map((r) => r.name.slice(PREFIX.length));
    taken.rows.forEach((r, i) => this.held.set(gained[i]!, { token: String(r.token), deadline: asked + this.ttlMs }));
    return gained;
  }

  /** Gives leases up (a clean stop, or a queue moved to a replica with fewer), so that nobody waits for them to run out. */
  async release(queues: string[]): Promise<void> {
    const mine = queues.filter((q) => this.held.has(q));
    if (mine.length === 0) return;
    const tokens = mine.map((q) => this.held.get(q)!.token);
    for (const q of mine) this.held.delete(q);
    await this.pool.query(
      `UPDATE ost_leases l SET expires_at = now() - interval '1 second'
       FROM unnest($1::text[], $2::bigint[]) AS h(name, token) WHERE l.name = h.name AND l.token = h.token`,
      [mine.map(queueLeaseName), tokens],
    );
  }
}

/**
 * Says this replica is alive, and returns how many replicas are (seen within `aliveMs`), every queue
 * there is (stored, or waiting in the inbox for its first step), in how many milliseconds the first
 * queue lease of a replica no longer alive runs out (null: none held), so that the others can take it
 * then rather than at their next beat, and whether this replica has run longest of those alive.
 * Replicas not seen for an hour are forgotten.
 */
export async function census(
  pool: pg.Pool,
  holder: string,
  aliveMs: number,
): Promise<{ replicas: number; queues: string[]; orphanedInMs: number | null; eldest: boolean }> {
  const result = await pool.query<{
    replicas: string;
    queues: string[] | null;
    orphaned_in_ms: number | null;
    eldest: boolean;
  }>(
    `WITH seen AS (
       INSERT INTO ost_replicas (name, seen_at) VALUES ($1, now())
       ON CONFLICT (name) DO UPDATE SET seen_at = now()),
     gone AS (DELETE FROM ost_replicas WHERE seen_at < now() - interval '1 hour')
     SELECT
       (SELECT count(*) FROM ost_replicas WHERE ${aliveWithin('$2')} AND name <> $1) + 1 AS replicas,
       (SELECT array_agg(name) FROM (SELECT name FROM ost_queues
          UNION SELECT DISTINCT queue FROM ost_inbox WHERE failed IS NULL) AS all_queues) AS queues,
       (SELECT (extract(epoch FROM min(l.expires_at) - now()) * 1000)::float8 FROM ost_leases l
          WHERE l.name LIKE $3 || '%' AND l.expires_at > now() AND l.holder <> $1
            AND ${holderDead('$2')}) AS orphaned_in_ms,
       coalesce((SELECT name = $1 FROM ost_replicas WHERE ${aliveWithin('$2')} OR name = $1
          ORDER BY started_at, name LIMIT 1), true) AS eldest`,
    [holder, aliveMs, PREFIX],
  );
  const row = result.rows[0]!;
  const { orphaned_in_ms: orphanedInMs, eldest } = row;
  return { replicas: Number(row.replicas), queues: row.queues ?? [], orphanedInMs, eldest };
}

/** Forgets a replica that stopped cleanly, so that it no longer counts when the queues are shared out. */
export async function leaveCensus(pool: pg.Pool, holder: string): Promise<void> {
  await pool.query('DELETE FROM ost_replicas WHERE name = $1', [holder]);
}

/** A replica that holds a lease now (it writes), or null when none does. */
export async function leaseHolder(pool: pg.Pool): Promise<string | null> {
  const result = await pool.query<{ holder: string }>(
    'SELECT holder FROM ost_leases WHERE expires_at > now() ORDER BY holder LIMIT 1',
  );
  return result.rows[0]?.holder ?? null;
}
