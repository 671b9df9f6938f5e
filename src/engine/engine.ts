// The engine runs the pure core for each queue. It keeps each queue's file in memory; under the
// queue's lock it steps the core on that file, appends the event and the effects decided to the
// queue's journal (durably), and only then performs the effects, each marked done afterwards in
// the journal. Every so often the file is written whole as a snapshot and the journal starts again.
// On start, a queue is its snapshot plus its journal replayed, and pending effects are performed again.
import { randomBytes } from 'node:crypto';
import {
  advance,
  step,
  type CoreEvent,
  type Effect,
  type QueueSettings,
  type QueueState,
  type QueueStats,
  type Run,
  type Strategy,
} from '../core/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import { safeSlug } from '../store/slug.ts';
import { QueueUnavailableError, StoreWriteError, writeProblem } from '../store/errors.ts';
import type {
  JournalRecord,
  JournalSize,
  OutboxEntry,
  QueueFile,
  QueueNotice,
  QueueSetup,
  Store,
  UnnumberedRecord,
} from '../store/types.ts';
import { toQueueSettings, type QueueCi, type RepoConfig } from '../config/repo.ts';
import { effectKey, type DispatchContext, type Performer } from './effects.ts';
import { KeyedLock } from './lock.ts';
import { WakeTimers } from './wake-timers.ts';
import { applyRecord, freshQueueFile, recordStep, replay } from './replay.ts';

/** Verdicts kept in the queue file at a snapshot; older ones go to the history file. */
export const VERDICTS_KEPT = 200;
/**
 * A snapshot is written once the journal has grown to the snapshot's size (and at least this), so
 * that the bytes written per event stay about twice a journal record, however large the queue.
 */
const SNAPSHOT_MIN_JOURNAL_BYTES = 64 * 1024;

export interface EngineOptions {
  store: Store;
  performer: Performer;
  now?: () => number;
  log?: Logger;
  strategies?: Record<string, Strategy>;
  /** Settings for a queue created by its first event. */
  settingsFor?: (queue: string) => Partial<QueueSettings>;
  /** Told about every step (metrics). */
  observer?: StepObserver;
  /** The journal size from which a snapshot may be written (tests make it small). */
  snapshotMinJournalBytes?: number;
}

/** What a step observer is told of the state before the step. */
export interface StateBefore {
  stats: QueueStats;
  /** Each run's state by key. */
  runStates: Record<string, Run['state']>;
}

export type StepObserver = (
  queue: string,
  event: CoreEvent,
  effects: Effect[],
  before: StateBefore,
  after: QueueState,
) => void;

export interface SubmitOptions {
  /** Id of the delivery that carried the event; a second delivery with the same id changes nothing. */
  delivery?: string;
  /** Set on the queue file with the step (CI provider, report settings). */
  setup?: QueueSetup;
  /**
   * Wait until the effects are performed (default). Effects that submit events themselves (a run's
   * URL, a result) must not wait: the drain that performs them would be waiting for itself.
   */
  wait?: boolean;
  /** Told the effects the step decided on, once they are decided (the admin API reads a command's reply). */
  onEffects?: (effects: Effect[]) => void;
}

/** A config tried to set a queue that another repository (or the server config) owns. */
export class QueueOwnedError extends Error {
  constructor(
    readonly queue: string,
    readonly owner: string,
  ) {
    super(`queue ${queue} belongs to ${owner}`);
  }
}

export { QueueUnavailableError, StoreWriteError };

export class Engine {
  private readonly lock = new KeyedLock();
  private readonly inProgress = new Set<string>();
  /** Outbox entries this process decided and has not tried yet: performed without asking whether they took. */
  private readonly unperformed = new Set<string>();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly strategies: Record<string, Strategy>;
  /** Queues whose outbox is being drained, with the promise of that drain. */
  private readonly draining = new Map<string, Promise<void>>();
  /** Each loaded queue's file, the one copy of its state (loading: the promise of it). */
  private readonly files = new Map<string, Promise<QueueFile | null>>();
  /** Queues with journal records since their last snapshot. */
  private readonly journaled = new Set<string>();
  /** Ticks a queue when a change it holds for company is due. */
  private readonly wakes: WakeTimers;
  /** Queues whose files could not be read, with why (cleared when one loads). */
  private readonly unreadable = new Map<string, string>();
  /** Stored files found unreadable at start-up (their queue is not known by name). */
  private damagedFiles: { file: string; reason: string }[] = [];
  /** The last failed write, until a write succeeds. */
  private writeFailure: { reason: string; at: number } | null = null;

  constructor(private readonly opts: EngineOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.strategies = opts.strategies ?? {};
    this.wakes = new WakeTimers(this.now, (queue) => {
      this.submit(queue, { type: 'tick', at: this.now() }).catch((err) =>
        this.log.error({ queue, err: (err as Error).message }, 'waking the queue for a held change failed'),
      );
    });
  }

  /**
   * The queue's file: loaded once (snapshot plus journal replayed), then kept. A queue that does not
   * exist, or failed to load, is not kept: asking for unknown names (a stranger's URLs) keeps nothing.
   */
  private file(queue: string): Promise<QueueFile | null> {
    let file = this.files.get(queue);
    if (!file) {
      file = this.load(queue).then(
        (loaded) => {
          this.unreadable.delete(queue);
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
    }
    return file;
  }

  private async load(queue: string): Promise<QueueFile | null> {
    const stored = await this.opts.store.loadQueue(queue);
    if (!stored) return null;
    if (stored.torn)
      this.log.warn(
        { queue, file: stored.torn.file, bytes: stored.torn.bytes },
        `journal ${stored.torn.file} ended in a record cut short by a crash (${stored.torn.bytes} bytes): dropped; ` +
          'its event had not been acted on, and its sender delivers it again',
      );
    if (stored.journal.length) this.journaled.add(queue);
    return replay(stored, queue, this.strategies);
  }

  /** Drops the queue's file from memory (after a step that failed half way): it is loaded again. */
  private forget(queue: string): void {
    this.files.delete(queue);
  }

  /** A new queue, with its first snapshot written, so that the journal after it has a queue to belong to. */
  private async create(queue: string): Promise<QueueFile> {
    const file = freshQueueFile(queue, this.opts.settingsFor?.(queue) ?? {});
    await this.written(() => this.opts.store.writeSnapshot(file));
    this.files.set(queue, Promise.resolve(file));
    return file;
  }

  /**
   * Numbers a record, appends it and applies it (`apply`, or as a replay would); the file is forgotten
   * when the append fails (it may be half changed). Writes a snapshot when one is due.
   */
  private async journal(
    queue: string,
    file: QueueFile,
    unnumbered: UnnumberedRecord,
    apply: (record: JournalRecord) => void = (record) => applyRecord(file, record, this.strategies),
  ): Promise<void> {
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
    if (
      size.journalBytes >= Math.max(this.opts.snapshotMinJournalBytes ?? SNAPSHOT_MIN_JOURNAL_BYTES, size.snapshotBytes)
    )
      await this.snapshot(file);
  }

  /** Moves old verdicts to the history, then writes the file as the queue's snapshot and empties its journal. */
  private async snapshot(file: QueueFile): Promise<void> {
    await this.moveHistory(file);
    await this.written(() => this.opts.store.writeSnapshot(file));
    this.journaled.delete(file.name);
  }

  /** Runs a store write, keeping whether the store can be written (for /healthz and clear errors). */
  private async written<T>(write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      if (this.writeFailure) this.log.info({}, 'the store can be written again');
      this.writeFailure = null;
      return result;
    } catch (err) {
      const reason = writeProblem(err);
      if (!this.writeFailure) this.log.error({ err: (err as Error).message }, reason);
      this.writeFailure = { reason, at: this.now() };
      throw new StoreWriteError(reason, err);
    }
  }

  /** Whether the store could be written last time, and why not. */
  storeHealth(): { ok: true } | { ok: false; reason: string; since: number } {
    return this.writeFailure
      ? { ok: false, reason: this.writeFailure.reason, since: this.writeFailure.at }
      : { ok: true };
  }

  /** Queues stopped because their files cannot be read, with why (by name, or by file when even the name is lost). */
  unavailable(): { queue: string; reason: string }[] {
    return [
      ...[...this.unreadable.entries()].map(([queue, reason]) => ({ queue, reason })),
      ...this.damagedFiles.map((f) => ({ queue: f.file, reason: f.reason })),
    ];
  }

  /**
   * Steps `queue` with `event`: step the core on the queue's file, append the event and the effects
   * it decided to the journal, then perform the effects. Returns false when the delivery was seen
   * before, or a tick changed nothing.
   */
  async submit(queue: string, event: CoreEvent, options: SubmitOptions = {}): Promise<boolean> {
    const applied = await this.lock.run(queue, async () => {
      const file = (await this.file(queue)) ?? (await this.create(queue));
      // only the owner sets a queue: checked under the lock, so that two first configs cannot both claim it
      const claim = options.setup?.owner;
      if (claim && file.owner && file.owner !== claim) throw new QueueOwnedError(queue, file.owner);
      if (options.delivery && file.deliveries.includes(options.delivery)) {
        this.log.info({ queue, delivery: options.delivery }, 'delivery seen before; ignored');
        return false;
      }
      // new run keys carry random text, so that nobody can guess a key from the queue's name
      const salted: CoreEvent = event.salt ? event : { ...event, salt: randomBytes(5).toString('hex') };
      const before: StateBefore = {
        stats: { ...file.state.stats },
        runStates: this.opts.observer
          ? Object.fromEntries(Object.entries(file.state.runs).map(([k, r]) => [k, r.state]))
          : {},
      };
      let effects: Effect[] | null;
      try {
        effects = this.stepFile(file, salted, options.setup);
      } catch (err) {
        this.forget(queue);
        throw err;
      }
      if (!effects) {
        // a wake-up that came a little early (timers may fire a millisecond before their time) changed
        // nothing: the held change is still held, and its timer is set again
        this.wakes.update(queue, file.state);
        return false;
      }
      try {
        this.opts.observer?.(queue, event, effects, before, file.state);
        options.onEffects?.(effects);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'step observer failed');
      }
      const base = `${file.state.seq}.${this.now()}`;
      const outbox: OutboxEntry[] = [];
      effects.forEach((effect, i) => {
        if (effect.type === 'log' || effect.type === 'notice') return;
        const id = `${base}.${i}`;
        // the journal has it before it is first performed; this process knows its own entries need no
        // check with the performer (below)
        outbox.push({ id, key: effectKey(queue, effect, id), effect });
      });
      const decided = effects;
      const body = {
        type: 'step' as const,
        at: this.now(),
        event: salted,
        ...(options.delivery ? { delivery: options.delivery } : {}),
        ...(options.setup ? { setup: options.setup } : {}),
        outbox,
      };
      await this.journal(queue, file, body, ({ n }) => recordStep(file, { ...body, n }, decided, before.stats));
      this.wakes.update(queue, file.state);
      for (const entry of outbox) this.unperformed.add(entry.id);
      for (const effect of effects) {
        if (effect.type === 'log') this.log[effect.level]({ queue }, effect.message);
        if (effect.type === 'notice')
          this.log[effect.level === 'error' ? 'error' : effect.level]({ queue, code: effect.code }, effect.message);
      }
      return true;
    });
    if (applied) {
      const drained = this.drain(queue);
      if (options.wait === false)
        drained.catch((err) => this.log.error({ queue, err: (err as Error).message }, 'performing effects failed'));
      else await drained;
    }
    return applied;
  }

  /**
   * Steps the file's state with the event, in place, and returns the effects; null for a tick that
   * changed nothing (not written: the ticker runs every few seconds on every queue). A tick is
   * stepped on a copy, to tell; any other event on the state itself.
   */
  private stepFile(file: QueueFile, event: CoreEvent, setup: QueueSetup | undefined): Effect[] | null {
    if (event.type === 'tick' && !setup) {
      const result = step(file.state, event, { strategies: this.strategies });
      if (result.effects.length === 0 && JSON.stringify(result.state) === JSON.stringify(file.state)) return null;
      file.state = result.state;
      return result.effects;
    }
    if (setup) Object.assign(file, setup);
    return advance(file.state, event, { strategies: this.strategies }).effects;
  }

  /** Moves verdicts beyond VERDICTS_KEPT to the history file, before the state that drops them is saved. */
  private async moveHistory(file: QueueFile): Promise<void> {
    const extra = file.state.verdicts.length - VERDICTS_KEPT;
    if (extra <= 0) return;
    const moved = file.state.verdicts.slice(0, extra);
    await this.opts.store.appendHistory(file.name, moved, file.historyMoved);
    file.historyMoved += moved.length;
    file.state.verdicts = file.state.verdicts.slice(extra);
  }

  private context(queue: string, file: QueueFile): DispatchContext {
    return {
      queue,
      file,
      now: this.now,
      submit: async (q, event, delivery) =>
        void (await this.submit(q, event, { wait: false, ...(delivery ? { delivery } : {}) })),
    };
  }

  /**
   * Performs the queue's pending outbox entries. Entries are written with the step that
   * decides them (durably, before they are performed) and removed once done; an entry found on
   * recovery, or tried before, is first checked with the performer, so that a report that took
   * before a crash is not posted twice.
   */
  async drain(queue: string): Promise<void> {
    const running = this.draining.get(queue);
    if (running) {
      // a drain is under way; run another after it so that entries added meanwhile are performed
      const next = running.then(() => this.drainOnce(queue));
      this.draining.set(queue, next);
      return next.finally(() => {
        if (this.draining.get(queue) === next) this.draining.delete(queue);
      });
    }
    const p = this.drainOnce(queue);
    this.draining.set(queue, p);
    return p.finally(() => {
      if (this.draining.get(queue) === p) this.draining.delete(queue);
    });
  }

  private async drainOnce(queue: string): Promise<void> {
    const pending = await this.lock.run(queue, async () => {
      const file = await this.file(queue);
      if (!file) return null;
      const todo = file.outbox.filter((e) => !this.inProgress.has(e.id));
      if (todo.length === 0) return null;
      for (const e of todo) this.inProgress.add(e.id);
      // an entry this process made and never tried is performed at once; any other (left by a crash,
      // or tried before and failed, perhaps after it took) is first checked with the performer
      const recovered = todo.filter((e) => !this.unperformed.has(e.id));
      return { file, todo, recovered: new Set(recovered.map((e) => e.id)) };
    });
    if (!pending) return;
    const done: string[] = [];
    const ctx = this.context(queue, pending.file);
    for (const entry of pending.todo) {
      try {
        if (pending.recovered.has(entry.id) && (await this.opts.performer.alreadyDone(entry, ctx))) {
          this.log.info({ queue, key: entry.key }, 'effect had taken before the restart; not repeated');
        } else {
          await this.opts.performer.perform(entry, ctx);
        }
        done.push(entry.id);
      } catch (err) {
        this.log.error(
          { queue, key: entry.key, err: (err as Error).message },
          'effect failed; it stays in the outbox and is retried',
        );
      } finally {
        this.inProgress.delete(entry.id);
        this.unperformed.delete(entry.id);
      }
    }
    if (done.length === 0) return;
    await this.lock.run(queue, async () => {
      const file = await this.file(queue);
      if (!file) return;
      await this.journal(queue, file, { type: 'done', ids: done });
    });
  }

  /** On start: performs every pending effect again and lets dispatchers pick up runs in flight. */
  async recover(): Promise<void> {
    this.damagedFiles = (await this.opts.store.unreadableFiles?.()) ?? [];
    for (const bad of this.damagedFiles)
      this.log.error(
        { file: bad.file, reason: bad.reason },
        `queue file ${bad.file} cannot be read (${bad.reason}): its queue is not started and the file is left ` +
          'as it is; restore it from a backup, or move it away to start that queue afresh',
      );
    for (const queue of await this.opts.store.listQueues()) {
      let file: QueueFile | null;
      try {
        await this.drain(queue);
        file = await this.file(queue);
      } catch (err) {
        // a queue whose file cannot be read stays as it is, untouched; the other queues go on
        this.log.error({ queue, err: (err as Error).message }, `queue ${queue} not started: ${(err as Error).message}`);
        continue;
      }
      if (!file) continue;
      const ctx = this.context(queue, file);
      for (const run of Object.values(file.state.runs)) {
        if (run.state !== 'dispatched' && run.state !== 'running') continue;
        try {
          await this.opts.performer.resume(run, ctx);
        } catch (err) {
          this.log.error({ queue, key: run.key, err: (err as Error).message }, 'could not resume run');
        }
      }
    }
  }

  /**
   * Sends a tick to every queue, so that time-outs and deadlines fire. A queue whose tick fails (an
   * unreadable file, a bug) is logged and skipped: the queues after it still tick.
   */
  async tick(): Promise<void> {
    const at = this.now();
    for (const queue of await this.queues()) {
      try {
        await this.submit(queue, { type: 'tick', at });
      } catch (err) {
        this.log.error({ queue, err: (err as Error).message }, 'tick failed for this queue; the others go on');
      }
    }
  }

  /** Every queue file that can be read; one that cannot is logged and left out. */
  async readAll(): Promise<QueueFile[]> {
    const files: QueueFile[] = [];
    for (const queue of await this.queues()) {
      try {
        const file = await this.read(queue);
        if (file) files.push(file);
      } catch (err) {
        this.log.error({ queue, err: (err as Error).message }, 'queue file not readable; left out');
      }
    }
    return files;
  }

  /**
   * Applies a repo config to a queue — the core's settings, the CI target, the report settings —
   * only when it differs from what the queue has, so that every push does not rewrite the queue.
   * With `owner`, the queue is that owner's: a queue without one is claimed, and one owned by someone
   * else is left untouched and its owner returned.
   */
  async configure(
    queue: string,
    config: RepoConfig,
    ci: QueueCi,
    at: number,
    owner?: string,
  ): Promise<{ refused: true; owner: string } | { refused: false }> {
    const settings = toQueueSettings(config);
    const file = await this.read(queue);
    if (owner && file?.owner && file.owner !== owner) return { refused: true, owner: file.owner };
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (
      file &&
      (!owner || file.owner === owner) &&
      same({ ...file.state.settings, ...settings }, file.state.settings) &&
      same(file.repoConfig, config) &&
      same(file.ci, ci)
    )
      return { refused: false };
    try {
      await this.submit(
        queue,
        { type: 'configure', at, settings },
        { setup: { ci, repoConfig: config, ...(owner ? { owner } : {}) } },
      );
    } catch (err) {
      if (err instanceof QueueOwnedError) return { refused: true, owner: err.owner };
      throw err;
    }
    return { refused: false };
  }

  /** Adds a notice for the dashboard to an existing queue (a config error, say) without stepping it. */
  async addNotice(queue: string, notice: QueueNotice): Promise<void> {
    await this.lock.run(queue, async () => {
      const file = await this.file(queue);
      if (!file) return;
      await this.journal(queue, file, { type: 'notice', notice });
    });
  }

  /**
   * The queue that has (or had) change `id`, with its file and the id the queue knows it by: its own,
   * or that of the change it landed with in one commit. Null when no queue knows it.
   */
  async findChange(id: string): Promise<{ queue: string; file: QueueFile; id: string } | null> {
    const files: QueueFile[] = [];
    for (const queue of await this.queues()) {
      const file = await this.read(queue);
      if (!file) continue;
      if (Object.hasOwn(file.state.changes, id) || file.state.forgotten.includes(id)) return { queue, file, id };
      files.push(file);
    }
    for (const file of files) {
      const host = Object.values(file.state.changes).find((c) => c.landedWith?.some((m) => m.id === id));
      if (host) return { queue: file.name, file, id: host.id };
    }
    return null;
  }

  /**
   * The last good repo config of a branch: kept in the file of `defaultQueue` (its own stream's), or of
   * the shared queue that holds its stream `stream`. Null when no queue has one.
   */
  async lastRepoConfig(defaultQueue: string, stream: string): Promise<RepoConfig | null> {
    const own = await this.read(defaultQueue);
    if (own?.repoConfig) return own.repoConfig;
    for (const queue of await this.queues()) {
      const file = await this.read(queue);
      if (file?.repoConfig && Object.hasOwn(file.state.streams, stream)) return file.repoConfig;
    }
    return null;
  }

  /**
   * The queue and run a CI result belongs to: by run key (keys are `<queue slug>.<n>`), or by the CI's
   * own run id. Null when no queue has such a run.
   */
  async findRun(match: {
    key?: string;
    ciRunId?: string | number;
  }): Promise<{ queue: string; run: Run; file: QueueFile } | null> {
    const queues = await this.queues();
    if (match.key) {
      const slug = match.key.slice(0, match.key.lastIndexOf('.'));
      for (const queue of queues.filter((q) => safeSlug(q) === slug)) {
        const file = await this.read(queue);
        if (file && Object.hasOwn(file.state.runs, match.key)) return { queue, run: file.state.runs[match.key]!, file };
      }
    }
    if (match.ciRunId !== undefined) {
      const wanted = String(match.ciRunId);
      for (const queue of queues) {
        const file = await this.read(queue);
        const run = Object.values(file?.state.runs ?? {}).find(
          (r) => r.ciRunId != null && String(r.ciRunId) === wanted,
        );
        if (run && file) return { queue, run, file };
      }
    }
    return null;
  }

  /**
   * The queue's file as it stands, or null when there is no such queue. It is the engine's own copy,
   * changed by every step: read it, never change it.
   */
  async read(queue: string): Promise<QueueFile | null> {
    return this.file(queue);
  }

  async queues(): Promise<string[]> {
    return this.opts.store.listQueues();
  }

  /**
   * On a clean stop: once idle, writes a snapshot of every queue with journal records since its last
   * one (so that the next start replays nothing), and closes the store's files.
   */
  async close(): Promise<void> {
    this.wakes.clear();
    await this.idle();
    for (const queue of [...this.journaled]) {
      try {
        await this.lock.run(queue, async () => {
          const file = await this.file(queue);
          if (file) await this.snapshot(file);
        });
      } catch (err) {
        this.log.error({ queue, err: (err as Error).message }, 'snapshot at stop failed; the journal keeps the queue');
      }
    }
    await this.opts.store.close?.();
  }

  /** Resolves once every queue's lock and drain are idle. */
  async idle(): Promise<void> {
    for (;;) {
      await this.lock.idle();
      // a step that has just let go of its lock starts its drain in a continuation: let it start, or
      // a drain begun after the look would be missed
      await new Promise<void>((resolve) => setImmediate(resolve));
      const all = [...this.draining.values()];
      if (all.length === 0 && !this.lock.busy) return;
      await Promise.allSettled(all);
    }
  }
}
