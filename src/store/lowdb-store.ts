// The default store: lowdb 7 with a durable JSON file adapter, one JSON file per queue under OST_DATA_DIR/queues,
// and verdict history as JSON lines under OST_DATA_DIR/history.
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { DurableJSONFile } from './durable-json-file.ts';
import type { VerdictRecord } from '../core/index.ts';
import { safeSlug } from './slug.ts';
import type { QueueFile, Store } from './types.ts';

export class LowdbStore implements Store {
  private readonly dbs = new Map<string, Low<QueueFile | null>>();
  private ready: Promise<void>;

  constructor(readonly dataDir: string) {
    this.ready = Promise.all(
      ['queues', 'history', 'runs'].map((d) => mkdir(join(dataDir, d), { recursive: true })),
    ).then(() => undefined);
  }

  private queuePath(name: string): string {
    return join(this.dataDir, 'queues', `${safeSlug(name)}.json`);
  }

  private db(name: string): Low<QueueFile | null> {
    let db = this.dbs.get(name);
    if (!db) {
      // a durable JSONFile (durable-json-file.ts), not JSONFilePreset, which keeps data in memory when NODE_ENV=test
      db = new Low<QueueFile | null>(new DurableJSONFile<QueueFile | null>(this.queuePath(name)), null);
      this.dbs.set(name, db);
    }
    return db;
  }

  async loadQueue(name: string): Promise<QueueFile | null> {
    await this.ready;
    const db = this.db(name);
    try {
      await db.read();
    } catch (err) {
      throw new Error(
        `queue file ${this.queuePath(name)} for queue ${JSON.stringify(name)} is not readable JSON: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const file = db.data;
    if (file && file.name !== name)
      throw new Error(
        `queue file ${this.queuePath(name)} holds queue ${JSON.stringify(file.name)}, not ${JSON.stringify(name)}`,
      );
    return file ? structuredClone(file) : null;
  }

  async saveQueue(file: QueueFile): Promise<void> {
    await this.ready;
    const db = this.db(file.name);
    db.data = file;
    await db.write();
  }

  async listQueues(): Promise<string[]> {
    return (await this.scan()).names;
  }

  async unreadableFiles(): Promise<{ file: string; reason: string }[]> {
    return (await this.scan()).unreadable;
  }

  /** Every queue file: the names of those that read, and what is wrong with those that do not. */
  private async scan(): Promise<{ names: string[]; unreadable: { file: string; reason: string }[] }> {
    await this.ready;
    const names: string[] = [];
    const unreadable: { file: string; reason: string }[] = [];
    for (const entry of await readdir(join(this.dataDir, 'queues'))) {
      if (!entry.endsWith('.json') || entry.startsWith('.')) continue;
      const path = join(this.dataDir, 'queues', entry);
      try {
        const file = JSON.parse(await readFile(path, 'utf8')) as QueueFile;
        if (file && typeof file.name === 'string') names.push(file.name);
        else unreadable.push({ file: path, reason: 'it names no queue' });
      } catch (err) {
        unreadable.push({ file: path, reason: (err as Error).message });
      }
    }
    return { names: names.sort(), unreadable };
  }

  async appendHistory(name: string, verdicts: VerdictRecord[], firstSeq: number): Promise<void> {
    if (verdicts.length === 0) return;
    await this.ready;
    const lines = verdicts.map((v, i) => JSON.stringify({ seq: firstSeq + i, ...v })).join('\n') + '\n';
    await appendFile(join(this.dataDir, 'history', `${safeSlug(name)}.jsonl`), lines, 'utf8');
  }

  async readHistory(name: string, limit: number): Promise<VerdictRecord[]> {
    return (await this.historyLines(name, 2 * limit + 1)).slice(-limit);
  }

  async readHistoryPage(
    name: string,
    before: number | undefined,
    limit: number,
  ): Promise<{ verdicts: VerdictRecord[]; more: boolean }> {
    const older = (await this.historyLines(name)).filter((v) => before === undefined || v.at < before).reverse();
    let end = Math.min(limit, older.length);
    while (end > 0 && end < older.length && older[end]!.at === older[end - 1]!.at) end++;
    return { verdicts: older.slice(0, end), more: end < older.length };
  }

  /** The history's verdicts, oldest first, one per number (from its last `lines` lines when given). */
  private async historyLines(name: string, lines?: number): Promise<VerdictRecord[]> {
    await this.ready;
    let text: string;
    try {
      text = await readFile(join(this.dataDir, 'history', `${safeSlug(name)}.jsonl`), 'utf8');
    } catch {
      return [];
    }
    const bySeq = new Map<number, VerdictRecord>();
    const all = text.split('\n');
    for (const line of lines === undefined ? all : all.slice(-lines)) {
      if (!line.trim()) continue;
      try {
        const { seq, ...verdict } = JSON.parse(line) as VerdictRecord & { seq: number };
        bySeq.set(seq, verdict);
      } catch {
        // a line cut short by a crash
      }
    }
    return [...bySeq.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  runLogPath(key: string): string {
    return join(this.dataDir, 'runs', `${safeSlug(key)}.log`);
  }
}
