// The read model: what the dashboard, the APIs and the hosts ask of the queues, answered from indexes
// instead of scanning every queue. A step only marks its queue as changed; its entries are indexed
// again when a question comes, so that the steps (many per question) pay nothing for the indexes: which queue has a
// change (also a change that landed with another, or one already forgotten), which has a run (by key
// or by the CI's own id), which holds a stream (for its last good config). Queues are handed out as
// read-only views of the engine's own copy.
import type { RepoConfig } from '../config/repo.ts';
import { runKeyPrefix, type Run } from '../core/index.ts';
import type { QueueFile, QueueView } from '../store/types.ts';
import type { QueueFiles } from './queue-files.ts';

export type { QueueView };

/** What one queue put in the indexes, to take it out again when the queue changes. */
interface Indexed {
  changes: string[];
  runs: string[];
  ciRuns: string[];
  streams: string[];
}

/** A CI result's run: by run key, or by the CI's own run id. */
type RunMatch = { key?: string; ciRunId?: string | number };

export class ReadModel {
  /** Change id -> the queue and the id it is known by there (another's, for a change that landed with it). */
  private readonly changes = new Map<string, { queue: string; id: string }>();
  private readonly runs = new Map<string, string>();
  /** A queue's run key prefix -> the queue (prefixes never change). */
  private readonly prefixes = new Map<string, string>();
  /** The CI's own run id -> the queue and run key. */
  private readonly ciRuns = new Map<string, { queue: string; key: string }>();
  /** Stream id -> the queues that hold it. */
  private readonly streams = new Map<string, Set<string>>();
  private readonly indexed = new Map<string, Indexed>();
  /** Queues changed (or loaded) since their entries were last indexed. */
  private readonly changed = new Map<string, QueueFile>();
  private everything: Promise<void> | null = null;

  constructor(
    private readonly files: QueueFiles,
    private readonly names: () => Promise<string[]>,
    /**
     * Replicas: whether a queue's copy may lag the store by a moment (another replica writes it). A
     * change or run not found is then looked for once more, with such queues read fresh.
     */
    private readonly lags?: (queue: string) => boolean,
  ) {}

  /**
   * Marks the copies that may lag the store (queues other replicas write) as behind it: each is
   * brought up to date from the store's journal when next asked for, and indexed again.
   */
  markStale(): void {
    for (const queue of this.files.names()) if (this.lags?.(queue) ?? true) this.files.markStale(queue);
  }

  /** Forgets one queue's copy and index entries (it moved to another replica, or comes back from one). */
  forget(queue: string): void {
    this.files.drop(queue);
    this.drop(queue);
    this.changed.delete(queue);
  }

  /**
   * Looks something up with `find`. A miss is final with the embedded store. On a replica whose
   * copies may lag, the first look uses the indexes as they are (the queue found is brought up to
   * date); after a miss every copy is brought up to date, the queues made since are read, and it
   * looks once more. (Copies are only ever marked behind, never dropped, so a look never sees a
   * partial index.)
   */
  private async lookup<T>(find: () => Promise<T | null>): Promise<T | null> {
    const found = await find();
    if (found || !this.lags) return found;
    this.markStale();
    this.everything = null;
    return find();
  }

  /** Marks a queue as changed: its entries are indexed again before the next question. */
  index(file: QueueFile): void {
    this.changed.set(file.name, file);
  }

  /** Indexes the queues changed since the last question. */
  private refresh(): void {
    for (const file of this.changed.values()) this.reindex(file);
    this.changed.clear();
  }

  /** Puts a queue's changes, runs and streams in the indexes, in place of what it had there. */
  private reindex(file: QueueFile): void {
    const queue = file.name;
    this.drop(queue);
    this.prefixes.set(file.state.keyPrefix, queue);
    const mine: Indexed = { changes: [], runs: [], ciRuns: [], streams: [] };
    const change = (id: string, as: string) => {
      this.changes.set(id, { queue, id: as });
      mine.changes.push(id);
    };
    for (const id of file.state.forgotten) change(id, id);
    for (const c of Object.values(file.state.changes)) {
      change(c.id, c.id);
      for (const m of c.landedWith ?? []) change(m.id, c.id);
    }
    for (const run of Object.values(file.state.runs)) {
      this.runs.set(run.key, queue);
      mine.runs.push(run.key);
      if (run.ciRunId === undefined || run.ciRunId === null) continue;
      this.ciRuns.set(String(run.ciRunId), { queue, key: run.key });
      mine.ciRuns.push(String(run.ciRunId));
    }
    for (const stream of Object.keys(file.state.streams)) {
      if (!this.streams.has(stream)) this.streams.set(stream, new Set());
      this.streams.get(stream)!.add(queue);
      mine.streams.push(stream);
    }
    this.indexed.set(queue, mine);
  }

  private drop(queue: string): void {
    const old = this.indexed.get(queue);
    if (!old) return;
    for (const id of old.changes) if (this.changes.get(id)?.queue === queue) this.changes.delete(id);
    for (const key of old.runs) if (this.runs.get(key) === queue) this.runs.delete(key);
    for (const id of old.ciRuns) if (this.ciRuns.get(id)?.queue === queue) this.ciRuns.delete(id);
    for (const stream of old.streams) this.streams.get(stream)?.delete(queue);
    this.indexed.delete(queue);
  }

  /** Loads (and so indexes) every queue once, so that the indexes cover queues not touched since the start. */
  private loadAll(): Promise<void> {
    const loading = (this.everything ??= (async () => {
      for (const queue of await this.names()) await this.files.get(queue).catch(() => null);
    })());
    // a load that failed (the store was unreachable) is tried again by the next question, not kept
    loading.catch(() => {
      if (this.everything === loading) this.everything = null;
    });
    return loading;
  }

  /** The names of every stored queue that can be read. */
  queues(): Promise<string[]> {
    return this.names();
  }

  /** A queue, or null when there is none. Throws QueueUnavailableError for one whose files cannot be read. */
  async queue(name: string): Promise<QueueView | null> {
    return this.files.get(name);
  }

  /** Every queue that can be read; the others are left out (unavailable() names them). */
  async all(): Promise<QueueView[]> {
    const out: QueueView[] = [];
    for (const name of await this.names()) {
      const file = await this.files.get(name).catch(() => null);
      if (file) out.push(file);
    }
    return out;
  }

  /**
   * The queue that has (or had) change `id`, with its file and the id the queue knows it by: its own,
   * or that of the change it landed with in one commit. Null when no queue knows it.
   */
  async change(id: string): Promise<{ queue: string; file: QueueView; id: string } | null> {
    return this.lookup(() => this.findChange(id));
  }

  private async findChange(id: string): Promise<{ queue: string; file: QueueView; id: string } | null> {
    await this.loadAll();
    this.refresh();
    const found = this.changes.get(id);
    const file = found ? await this.files.get(found.queue).catch(() => null) : null;
    return found && file ? { queue: found.queue, file, id: found.id } : null;
  }

  /** The queue and run a CI result belongs to: by run key, or by the CI's own run id. */
  async run(match: RunMatch): Promise<{ queue: string; run: Run; file: QueueView } | null> {
    const found = await this.findRun(match);
    if (found || !this.lags) return found;
    // a run key starts with its queue's key prefix: that copy alone is brought up to date first, rather
    // than every copy (a CI's callback usually reaches a replica that does not write its queue)
    const prefix = match.key ? runKeyPrefix(match.key) : null;
    const queue = prefix ? this.prefixes.get(prefix) : undefined;
    if (queue && this.lags(queue)) {
      this.files.markStale(queue);
      await this.files.get(queue).catch(() => null);
      const again = await this.findRun(match);
      if (again) return again;
    }
    return this.lookup(() => this.findRun(match));
  }

  private async findRun(match: RunMatch): Promise<{ queue: string; run: Run; file: QueueView } | null> {
    await this.loadAll();
    this.refresh();
    const byKey = match.key ? this.runs.get(match.key) : undefined;
    const byCi = match.ciRunId !== undefined ? this.ciRuns.get(String(match.ciRunId)) : undefined;
    const queue = byKey ?? byCi?.queue;
    const key = byKey ? match.key! : byCi?.key;
    if (!queue || !key) return null;
    const file = await this.files.get(queue).catch(() => null);
    const run = file && Object.hasOwn(file.state.runs, key) ? file.state.runs[key]! : null;
    return file && run ? { queue, run, file } : null;
  }

  /**
   * The last good repo config of a branch: kept in the file of `defaultQueue` (its own stream's), or
   * of a queue that holds its stream `stream`. Null when no queue has one.
   */
  async lastRepoConfig(defaultQueue: string, stream: string): Promise<RepoConfig | null> {
    const own = await this.files.get(defaultQueue).catch(() => null);
    if (own?.repoConfig) return own.repoConfig;
    await this.loadAll();
    this.refresh();
    for (const queue of this.streams.get(stream) ?? []) {
      const file = await this.files.get(queue).catch(() => null);
      if (file?.repoConfig) return file.repoConfig;
    }
    return null;
  }

  /** Whether the store could be written last time, and why not. */
  storeHealth(): ReturnType<QueueFiles['storeHealth']> {
    return this.files.storeHealth();
  }

  /** Queues stopped because their files cannot be read, with why. */
  unavailable(): { queue: string; reason: string }[] {
    return this.files.unavailable();
  }
}
