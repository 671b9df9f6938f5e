// The inbox table (migrations/0002_inbox.sql): a replica that does not hold a queue's lease stores
// what it accepts for that queue here before answering, and the replica that holds it takes the items
// in the order they came, applies them and deletes them. An item is applied with its delivery id (or `inbox:<id>`), so an
// item applied again after a crash between applying and deleting changes nothing.
import type pg from 'pg';
import type { InboxItem } from '../types.ts';

export interface InboxRow {
  id: string;
  queue: string;
  /** The item's delivery id, or `inbox:<id>`. */
  delivery: string;
  item: InboxItem;
}

export class PgInbox {
  constructor(
    private readonly pool: pg.Pool,
    /** Who stores (this replica), for an operator reading the table. */
    private readonly replica: string,
  ) {}

  /** Stores an item durably; false when the queue already has one with the same delivery id. */
  async put(queue: string, item: InboxItem, delivery?: string): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO ost_inbox (queue, delivery, item, received_by) VALUES ($1, $2, $3::json, $4)
       ON CONFLICT (queue, delivery) WHERE delivery IS NOT NULL DO NOTHING`,
      [queue, delivery ?? null, JSON.stringify(item), this.replica],
    );
    return result.rowCount === 1;
  }

  /** The oldest items of `queues` not applied yet (nor failed), in the order they came. */
  async next(limit: number, queues: string[]): Promise<InboxRow[]> {
    if (queues.length === 0) return [];
    const result = await this.pool.query<{ id: string; queue: string; delivery: string | null; item: InboxItem }>(
      'SELECT id, queue, delivery, item FROM ost_inbox WHERE failed IS NULL AND queue = ANY($2) ORDER BY id LIMIT $1',
      [limit, queues],
    );
    return result.rows.map((r) => ({
      id: String(r.id),
      queue: r.queue,
      delivery: r.delivery ?? `inbox:${r.id}`,
      item: r.item,
    }));
  }

  /** Removes an applied item. */
  async applied(id: string): Promise<void> {
    await this.pool.query('DELETE FROM ost_inbox WHERE id = $1', [id]);
  }

  /** Keeps an item that cannot be applied aside, with why. */
  async failed(id: string, reason: string): Promise<void> {
    await this.pool.query('UPDATE ost_inbox SET failed = $2 WHERE id = $1', [id, reason.slice(0, 2000)]);
  }

  /** How many items wait, and how many failed (for /healthz and metrics). */
  async counts(): Promise<{ waiting: number; failed: number }> {
    const result = await this.pool.query<{ waiting: string; failed: string }>(
      'SELECT count(*) FILTER (WHERE failed IS NULL) AS waiting, count(*) FILTER (WHERE failed IS NOT NULL) AS failed FROM ost_inbox',
    );
    const row = result.rows[0]!;
    return { waiting: Number(row.waiting), failed: Number(row.failed) };
  }
}
