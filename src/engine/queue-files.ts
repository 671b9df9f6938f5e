// The queue files the engine keeps in memory, one copy per queue, and their writes: a queue is loaded
// once (its snapshot plus its journal replayed), each record is appended durably before it is applied,
// and a snapshot is written once the journal has grown to the snapshot's size. It also keeps what went
// wrong with the stored data: queues whose files cannot be read, and whether the store can be written.
import type { QueueSettings, Strategy } from '../core/index.ts';
import type { Logger } from '../log.ts';
import { QueueUnavailableError, StoreWriteError, writeProblem } from '../store/errors.ts';
import type { JournalRecord, JournalSize, QueueFile, Store, UnnumberedRecord } from '../store/types.ts';
import { applyRecord, freshQueueFile, replay } from './replay.ts';

/** Verdicts kept in the queue file at a snapshot; older ones go to the history file. */
export const VERDICTS_KEPT = 200;
/**
 * A snapshot is written once the journal has grown to the snapshot's size (and at least this), so
 * that the bytes written per event stay about twice a journal record, however large the queue.
 */
const SNAPSHOT_MIN_JOURNAL_BYTES = 64 * 1024;

export interface QueueFilesOptions {
  store: Store;
  log: Logger;
  now: () => number;
  strategies: Record<string, Strategy>;
  /** Settings for a queue created by its first event. */
  settingsFor?: ((queue: string) => Partial<QueueSettings>) | undefined;
  /** The journal size from which a snapshot may be written (tests make it small). */
  snapshotMinJournalBytes?: number | undefined;
  /** Told of every file loaded or created (the read model indexes it). */
  onLoad?: (file: QueueFile) => void;
}

export class QueueFiles {
  /** Each loaded queue's file, the one copy of its state (loading: the promise of it). */
  private readonly files = new Map<string, Promise<QueueFile | null>>();
  /** Queues with journal records since their last snapshot. */
  private readonly journaled = new Set<string>();
  /** Queues whose copies may lag the store (another replica writes them): brought up to date when next asked for. */
  private readonly stale = new Set<string>();
  /** Queues whose files could not be read, with why (cleared when one loads). */
  private readonly unreadable = new Map<string, string>();
  /** Stored files found unreadable at start-up (their queue is not known by name). */
  private damaged: { file: string; reason: string }[] = [];
  /** The last failed write, until a write succeeds. */
  private writeFailure: { reason: string; at: number } | null = null;

  constructor(private readonly opts: QueueFilesOptions) {}

  /**
   * The queue's file: loaded once, then kept. A queue that does not exist, or failed to load, is not
   * kept: asking for unknown names (a stranger's URLs) keeps nothing. One that cannot be read throws
   * QueueUnavailableError.
   */
  get(queue: string): Promise<QueueFile | null> {
    const kept = this.files.get(queue);
    if (kept && this.stale.delete(queue))
      return this.read(queue, () => kept.then((f) => (f ? this.catchUp(f) : this.load(queue))));
    return kept ?? this.read(queue, () => this.load(queue));
  }

  /** Reads a queue with `how`, keeping the promise of it; one that does not exist, or failed, is not kept. */
  private read(queue: string, how: () => Promise<QueueFile | null>): Promise<QueueFile | null> {
    const file = how().then(
      (loaded) => {
        this.unreadable.delete(queue);
        if (loaded) this.opts.onLoad?.(loaded);
        return loaded;
      },
      (err: unknown) => {
        const reason = (err as Error).message;
        this.unreadable.set(queue, reason);
        throw new QueueUnavailableError(queue, reason);
      },
    );
    this.files.set(queue, file);
    const forget = () => void (this.files.get(queue) === file && this.files.delete(queue));
    file.then((f) => f ?? forget(), forget);
    return file;
  }

  /**
   * Brings a copy read before up to date with the records written since (by another replica), or
   * reads the queue whole when the store cannot say (a snapshot took them in, or it has no way to).
   */
  private async catchUp(file: QueueFile): Promise<QueueFile | null> {
    const newer = await this.opts.store.journalAfter?.(file.name, file.journalSeq ?? 0);
    if (!newer) return this.load(file.name);
    for (const record of newer) applyRecord(file, record, this.opts.strategies);
    return file;
  }

  /** Marks the copy of a queue another replica writes as possibly behind the store: brought up to date when next asked for. */
  markStale(queue: string): void {
    if (this.files.has(queue)) this.stale.add(queue);
  }

  private async load(queue: string): Promise<QueueFile | null> {
    const stored = await this.opts.store.loadQueue(queue);
    if (!stored) return null;
    if (stored.torn)
      this.opts.log.warn(
        { queue, file: stored.torn.file, bytes: stored.torn.bytes },
        `journal ${stored.torn.file} ended in a record cut short by a crash (${stored.torn.bytes} bytes): dropped; ` +
          'its event had not been acted on, and its sender delivers it again',
      );
    if (stored.journal.length) this.journaled.add(queue);
    return replay(stored, queue, this.opts.strategies);
  }

  /** How many queues are in memory (or being loaded). */
  loaded(): number {
    return this.files.size;
  }

  /** The queues in memory (or being loaded). */
  names(): string[] {
    return [...this.files.keys()];
  }

  /** Drops what is kept of a queue (another replica writes it): it is loaded again when asked for. */
  drop(queue: string): void {
    this.files.delete(queue);
    this.stale.delete(queue);
    this.journaled.delete(queue);
    this.unreadable.delete(queue);
  }

  /** Drops the queue's file from memory (after a step that failed half way): it is loaded again. */
  forget(queue: string): void {
    this.files.delete(queue);
  }

  /** A new queue, with its first snapshot written, so that the journal after it has a queue to belong to. */
  async create(queue: string): Promise<QueueFile> {
    const file = freshQueueFile(queue, this.opts.settingsFor?.(queue) ?? {});
    await this.written(() => this.opts.store.writeSnapshot(file));
    this.files.set(queue, Promise.resolve(file));
    this.opts.onLoad?.(file);
    return file;
  }

  /**
   * Numbers a record, appends it and applies it (`apply`, or as a replay would); the file is forgotten
   * when the append fails (it may be half changed). Writes a snapshot when one is due.
   */
  async append(
    file: QueueFile,
    unnumbered: UnnumberedRecord,
    apply: (record: JournalRecord) => void = (record) => applyRecord(file, record, this.opts.strategies),
  ): Promise<void> {
    const queue = file.name;
    const record = { ...unnumbered, n: (file.journalSeq ?? 0) + 1 } as JournalRecord;
    let size: JournalSize;
    try {
      size = await this.written(() => this.opts.store.appendJournal(queue, record));
    } catch (err) {
      this.forget(queue);
      throw err;
    }
    apply(record);
    this.journaled.add(queue);
    const due = Math.max(this.opts.snapshotMinJournalBytes ?? SNAPSHOT_MIN_JOURNAL_BYTES, size.snapshotBytes);
    if (size.journalBytes >= due) await this.snapshot(file);
  }

  /** Moves old verdicts to the history, then writes the file as the queue's snapshot and empties its journal. */
  async snapshot(file: QueueFile): Promise<void> {
    const extra = file.state.verdicts.length - VERDICTS_KEPT;
    if (extra > 0) {
      const moved = file.state.verdicts.slice(0, extra);
      await this.opts.store.appendHistory(file.name, moved, file.historyMoved);
      file.historyMoved += moved.length;
      file.state.verdicts = file.state.verdicts.slice(extra);
    }
    await this.written(() => this.opts.store.writeSnapshot(file));
    this.journaled.delete(file.name);
  }

  /** Queues with journal records since their last snapshot (a clean stop snapshots them). */
  withJournal(): string[] {
    return [...this.journaled];
  }

  /** Runs a store write, keeping whether the store can be written (for /healthz and clear errors). */
  private async written<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      if (this.writeFailure) this.opts.log.info({}, 'the store can be written again');
      this.writeFailure = null;
      return result;
    } catch (err) {
      const reason = writeProblem(err);
      if (!this.writeFailure) this.opts.log.error({ err: (err as Error).message }, reason);
      this.writeFailure = { reason, at: this.opts.now() };
      throw new StoreWriteError(reason, err);
    }
  }

  /** Whether the store could be written last time, and why not. */
  storeHealth(): { ok: true } | { ok: false; reason: string; since: number } {
    return this.writeFailure
      ? { ok: false, reason: this.writeFailure.reason, since: this.writeFailure.at }
      : { ok: true };
  }

  /** Records the stored files found unreadable at start-up. */
  noteDamaged(files: { file: string; reason: string }[]): void {
    this.damaged = files;
  }

  /** Queues stopped because their files cannot be read, with why (by name, or by file when even the name is lost). */
  unavailable(): { queue: string; reason: string }[] {
    return [
      ...[...this.unreadable.entries()].map(([queue, reason]) => ({ queue, reason })),
      ...this.damaged.map((f) => ({ queue: f.file, reason: f.reason })),
    ];
  }
}
