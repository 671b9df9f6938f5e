// The default store: per queue, a snapshot (a lowdb file through the checksummed SnapshotFile
// adapter) at OST_DATA_DIR/queues/<slug>.json and a journal of what happened since at
// queues/<slug>.journal; verdict history as JSON lines under OST_DATA_DIR/history.
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import type { VerdictRecord } from '../core/index.ts';
import { JournalFile, parseJournal } from './journal-file.ts';
import { safeSlug } from './slug.ts';
import { SnapshotFile } from './snapshot-file.ts';
import type { JournalRecord, JournalSize, QueueFile, Store, StoredQueue } from './types.ts';

/** Moments of a write where the crash test may stop the process. */
export type WritePoint = 'snapshot-on-disk' | 'snapshot-renamed' | 'journal-emptied' | 'journal-appended';

export interface LowdbStoreOptions {
  /** Only reads (`ost-gate status`, or a second look at a running server's data): every write throws. */
  readOnly?: boolean;
  /** Called at each WritePoint (tests stop the process there). */
  onWrite?: (point: WritePoint) => void;
}

interface QueueFiles {
  db: Low<QueueFile | null>;
  snapshot: SnapshotFile;
  journal: JournalFile;
}

export class LowdbStore implements Store {
  private readonly files = new Map<string, QueueFiles>();
  /** Queue names by snapshot file, so that listing queues reads each file once. */
  private readonly names = new Map<string, string>();
  private ready: Promise<void>;

  constructor(
    readonly dataDir: string,
    private readonly options: LowdbStoreOptions = {},
  ) {
    this.ready = options.readOnly
      ? Promise.resolve()
      : Promise.all(['queues', 'history', 'runs'].map((d) => mkdir(join(dataDir, d), { recursive: true }))).then(
          () => undefined,
        );
  }

  private queuePath(name: string, ext: 'json' | 'journal'): string {
    return join(this.dataDir, 'queues', `${safeSlug(name)}.${ext}`);
  }

  private queueFiles(name: string): QueueFiles {
    let files = this.files.get(name);
    if (!files) {
      const snapshot = new SnapshotFile(this.queuePath(name, 'json'));
      files = {
        db: new Low<QueueFile | null>(snapshot, null),
        snapshot,
        journal: new JournalFile(this.queuePath(name, 'journal')),
      };
      this.files.set(name, files);
    }
    return files;
  }

  private writable(): void {
    if (this.options.readOnly) throw new Error(`the store of ${this.dataDir} was opened read-only`);
  }

  async loadQueue(name: string): Promise<StoredQueue | null> {
    await this.ready;
    const { db, journal } = this.queueFiles(name);
    await db.read();
    const snapshot = db.data;
    if (snapshot && snapshot.name !== name)
      throw new Error(
        `snapshot ${this.queuePath(name, 'json')} holds queue ${JSON.stringify(snapshot.name)}, not ${JSON.stringify(name)}`,
      );
    const text = await journal.read();
    if (!snapshot && !text) return null;
    const parsed = parseJournal(text, journal.path, snapshot?.journalSeq ?? 0);
    const stored: StoredQueue = { snapshot, journal: parsed.records };
    // loading changes nothing: the owner's first append cuts a torn line off (journal-file.ts)
    if (parsed.tornBytes > 0) stored.torn = { file: journal.path, bytes: parsed.tornBytes };
    return stored;
  }

  async appendJournal(name: string, record: JournalRecord): Promise<JournalSize> {
    this.writable();
    await this.ready;
    const { journal, snapshot } = this.queueFiles(name);
    const journalBytes = await journal.append(record);
    this.options.onWrite?.('journal-appended');
    return { journalBytes, snapshotBytes: snapshot.bytes };
  }

  async writeSnapshot(file: QueueFile): Promise<void> {
    this.writable();
    await this.ready;
    const { db, journal, snapshot } = this.queueFiles(file.name);
    db.data = file;
    await snapshot.write(file, () => this.options.onWrite?.('snapshot-on-disk'));
    this.options.onWrite?.('snapshot-renamed');
    // the records the snapshot includes go; a crash before this leaves them, and loading skips them
    await journal.truncate(0);
    this.options.onWrite?.('journal-emptied');
    this.names.set(snapshot.path, file.name);
  }

  async listQueues(): Promise<string[]> {
    return (await this.scan()).names;
  }

  async unreadableFiles(): Promise<{ file: string; reason: string }[]> {
    return (await this.scan()).unreadable;
  }

  /** Every snapshot: the names of the queues that read, and what is wrong with those that do not. */
  private async scan(): Promise<{ names: string[]; unreadable: { file: string; reason: string }[] }> {
    await this.ready;
    const names: string[] = [];
    const unreadable: { file: string; reason: string }[] = [];
    let entries: string[];
    try {
      entries = await readdir(join(this.dataDir, 'queues'));
    } catch {
      entries = [];
    }
    for (const entry of entries) {
      if (
        entry.endsWith('.journal') &&
        !entry.startsWith('.') &&
        !entries.includes(entry.replace(/\.journal$/, '.json'))
      )
        unreadable.push({
          file: join(this.dataDir, 'queues', entry),
          reason: `its snapshot ${entry.replace(/\.journal$/, '.json')} is missing (deleted?), and a journal alone cannot rebuild the queue`,
        });
      if (!entry.endsWith('.json') || entry.startsWith('.')) continue;
      const path = join(this.dataDir, 'queues', entry);
      const known = this.names.get(path);
      if (known) {
        names.push(known);
        continue;
      }
      try {
        const file = await new SnapshotFile(path).read();
        if (!file) continue;
        this.names.set(path, file.name);
        names.push(file.name);
      } catch (err) {
        unreadable.push({ file: path, reason: (err as Error).message });
      }
    }
    return { names: names.sort(), unreadable };
  }

  async close(): Promise<void> {
    for (const files of this.files.values()) await files.journal.close();
  }

  async appendHistory(name: string, verdicts: VerdictRecord[], firstSeq: number): Promise<void> {
    if (verdicts.length === 0) return;
    await this.ready;
    this.writable();
    const lines = verdicts.map((v, i) => JSON.stringify({ seq: firstSeq + i, ...v })).join('\n') + '\n';
    const history = await open(join(this.dataDir, 'history', `${safeSlug(name)}.jsonl`), 'a', 0o600);
    try {
      await history.write(lines);
      await history.datasync();
    } finally {
      await history.close();
    }
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

  /** A run's log file: runs/ in the data directory, its name made safe. */
  runLogPath(key: string): string {
    return join(this.dataDir, 'runs', `${safeSlug(key)}.log`);
  }

  async keepRunLog(key: string, text: string): Promise<void> {
    await this.ready;
    await writeFile(this.runLogPath(key), text);
  }

  readRunLog(key: string): Promise<string | null> {
    return readFile(this.runLogPath(key), 'utf8').catch(() => null);
  }
}
