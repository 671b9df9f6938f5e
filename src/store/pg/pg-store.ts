// The PostgreSQL store: per queue a snapshot row (ost_queues) and the journal written after it
// (ost_journal), the verdict history (ost_history). With a fence, every write carries the fencing
// token of a lease and the database refuses it once the lease has another token (FencedError); the
// lease row is read FOR SHARE in the write's transaction, so a takeover waits for a write under way,
// and a new holder loads the queue only after every write of the old one has committed or failed.
import type pg from 'pg';
import type { VerdictRecord } from '../../core/index.ts';
import type { JournalRecord, JournalSize, QueueFile, Store, StoredQueue } from '../types.ts';

/** A write refused because this process no longer holds the lease it writes under. */
export class FencedError extends Error {
  constructor(lease: string) {
    super(
      `this replica no longer holds the ${lease} lease (another replica took it over, or it ran out while this ` +
        'process was paused): nothing was written',
    );
  }
}

export interface PgStoreOptions {
  pool: pg.Pool;
  /** The lease each queue's writes are made under; without it writes are not fenced (copies, tests). */
  fence?: { lease: (queue: string) => string; token: (queue: string) => string | null };
}

/** The condition that fences a write: $lease holds $token, its row locked until the write commits. */
const FENCED = 'EXISTS (SELECT 1 FROM ost_leases WHERE name = $5 AND token = $6 FOR SHARE)';

export class PgStore implements Store {
  /** Journal bytes since the last snapshot, per queue this process writes. */
  private readonly journalBytes = new Map<string, number>();
  private readonly snapshotBytes = new Map<string, number>();

  constructor(private readonly opts: PgStoreOptions) {}

  /** The queue's lease and token as the last two query parameters ($5, $6), or a FencedError. */
  private fenceParams(queue: string): [string, string] | [] {
    const fence = this.opts.fence;
    if (!fence) return [];
    const token = fence.token(queue);
    if (token === null) throw new FencedError(fence.lease(queue));
    return [fence.lease(queue), token];
  }

  async loadQueue(name: string): Promise<StoredQueue | null> {
    // one statement, one snapshot of the database: a snapshot written meanwhile cannot hide records
    const result = await this.opts.pool.query<{
      snapshot: QueueFile;
      snapshot_bytes: number;
      journal: JournalRecord[];
      journal_bytes: string;
    }>(
      `SELECT q.snapshot, q.snapshot_bytes,
         coalesce((SELECT json_agg(j.record ORDER BY j.n) FROM ost_journal j
                   WHERE j.queue = q.name AND j.n > q.journal_seq), '[]'::json) AS journal,
         (SELECT coalesce(sum(j.bytes), 0) FROM ost_journal j WHERE j.queue = q.name AND j.n > q.journal_seq)
           AS journal_bytes
       FROM ost_queues q WHERE q.name = $1`,
      [name],
    );
    const row = result.rows[0];
    if (!row) return null;
    if (row.snapshot?.name !== name)
      throw new Error(
        `the database's snapshot of queue ${JSON.stringify(name)} holds queue ${JSON.stringify(row.snapshot?.name)}`,
      );
    this.snapshotBytes.set(name, row.snapshot_bytes);
    this.journalBytes.set(name, Number(row.journal_bytes));
    return { snapshot: row.snapshot, journal: row.journal };
  }

  async journalAfter(name: string, seq: number): Promise<JournalRecord[] | null> {
    const result = await this.opts.pool.query<{ journal_seq: string; journal: JournalRecord[] }>(
      `SELECT q.journal_seq,
         coalesce((SELECT json_agg(j.record ORDER BY j.n) FROM ost_journal j WHERE j.queue = q.name AND j.n > $2),
           '[]'::json) AS journal
       FROM ost_queues q WHERE q.name = $1`,
      [name, seq],
    );
    const row = result.rows[0];
    return row && Number(row.journal_seq) <= seq ? row.journal : null;
  }

  async appendJournal(name: string, record: JournalRecord): Promise<JournalSize> {
    const text = JSON.stringify(record);
    const bytes = Buffer.byteLength(text);
    const fence = this.fenceParams(name);
    const inserted = await this.opts.pool.query(
      fence.length
        ? `INSERT INTO ost_journal (queue, n, record, bytes) SELECT $1, $2, $3::json, $4 WHERE ${FENCED}`
        : 'INSERT INTO ost_journal (queue, n, record, bytes) VALUES ($1, $2, $3::json, $4)',
      [name, record.n, text, bytes, ...fence],
    );
    if (inserted.rowCount === 0) throw new FencedError(this.opts.fence!.lease(name));
    const journalBytes = (this.journalBytes.get(name) ?? (await this.storedJournalBytes(name))) + bytes;
    this.journalBytes.set(name, journalBytes);
    return { journalBytes, snapshotBytes: this.snapshotBytes.get(name) ?? 0 };
  }

  /** The journal's bytes as stored (a queue this process has not loaded). */
  private async storedJournalBytes(name: string): Promise<number> {
    const result = await this.opts.pool.query<{ bytes: string }>(
      `SELECT coalesce(sum(bytes), 0) AS bytes FROM ost_journal
       WHERE queue = $1 AND n > (SELECT journal_seq FROM ost_queues WHERE name = $1)`,
      [name],
    );
    return Number(result.rows[0]?.bytes ?? 0);
  }

  async writeSnapshot(file: QueueFile): Promise<void> {
    const text = JSON.stringify(file);
    const bytes = Buffer.byteLength(text);
    const seq = file.journalSeq ?? 0;
    await this.transaction(file.name, async (client) => {
      await client.query(
        `INSERT INTO ost_queues (name, snapshot, journal_seq, snapshot_bytes) VALUES ($1, $2::json, $3, $4)
         ON CONFLICT (name) DO UPDATE SET snapshot = EXCLUDED.snapshot, journal_seq = EXCLUDED.journal_seq,
           snapshot_bytes = EXCLUDED.snapshot_bytes, written_at = now()`,
        [file.name, text, seq, bytes],
      );
      await client.query('DELETE FROM ost_journal WHERE queue = $1 AND n <= $2', [file.name, seq]);
    });
    this.snapshotBytes.set(file.name, bytes);
    this.journalBytes.set(file.name, 0);
  }

  async listQueues(): Promise<string[]> {
    const result = await this.opts.pool.query<{ name: string }>('SELECT name FROM ost_queues ORDER BY name');
    return result.rows.map((r) => r.name);
  }

  async appendHistory(name: string, verdicts: VerdictRecord[], firstSeq: number): Promise<void> {
    if (verdicts.length === 0) return;
    await this.transaction(name, async (client) => {
      // a crash between this and the next snapshot moves the same verdicts again: kept once
      await client.query(
        `INSERT INTO ost_history (queue, seq, at, verdict)
         SELECT $1, $2 + v.i - 1, (v.verdict->>'at')::bigint, v.verdict
         FROM json_array_elements($3::json) WITH ORDINALITY AS v(verdict, i)
         ON CONFLICT (queue, seq) DO NOTHING`,
        [name, firstSeq, JSON.stringify(verdicts)],
      );
    });
  }

  async readHistory(name: string, limit: number): Promise<VerdictRecord[]> {
    const result = await this.opts.pool.query<{ verdict: VerdictRecord }>(
      'SELECT verdict FROM ost_history WHERE queue = $1 ORDER BY seq DESC LIMIT $2',
      [name, limit],
    );
    return result.rows.map((r) => r.verdict).reverse();
  }

  async readHistoryPage(
    name: string,
    before: number | undefined,
    limit: number,
  ): Promise<{ verdicts: VerdictRecord[]; more: boolean }> {
    // newest first; verdicts given at the same time as the page's last one come along (see Store)
    for (let fetch = limit + 16; ; fetch *= 2) {
      const result = await this.opts.pool.query<{ verdict: VerdictRecord }>(
        `SELECT verdict FROM ost_history WHERE queue = $1 AND ($2::bigint IS NULL OR at < $2)
         ORDER BY seq DESC LIMIT $3`,
        [name, before ?? null, fetch + 1],
      );
      const older = result.rows.map((r) => r.verdict);
      let end = Math.min(limit, older.length);
      while (end > 0 && end < older.length && older[end]!.at === older[end - 1]!.at) end++;
      if (end < older.length || older.length <= fetch)
        return { verdicts: older.slice(0, end), more: end < older.length };
    }
  }

  async keepRunLog(key: string, text: string): Promise<void> {
    await this.opts.pool.query(
      `INSERT INTO ost_run_logs (key, text) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET text = EXCLUDED.text, written_at = now()`,
      [key, text],
    );
  }

  async readRunLog(key: string): Promise<string | null> {
    const result = await this.opts.pool.query<{ text: string }>('SELECT text FROM ost_run_logs WHERE key = $1', [key]);
    return result.rows[0]?.text ?? null;
  }

  /** Runs `work` in a transaction that first checks the queue's fence; a FencedError rolls it back. */
  private async transaction(queue: string, work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.opts.pool.connect();
    // a connection that failed mid-transaction is closed, not given back to the pool
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const fence = this.fenceParams(queue);
      if (fence.length) {
        const held = await client.query('SELECT 1 FROM ost_leases WHERE name = $1 AND token = $2 FOR SHARE', fence);
        if (held.rowCount === 0) throw new FencedError(fence[0]);
      }
      await work(client);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
