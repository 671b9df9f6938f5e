// The engine runs the pure core for each queue: under the queue's lock it loads the queue file,
// steps the core, and writes the new state with its outbox in one atomic write; only then are the
// effects performed, each marked done afterwards. On start, pending effects are performed again.
import { randomBytes } from 'node:crypto';
import {
  emptyQueue,
  step,
  type CoreEvent,
  type Effect,
  type QueueSettings,
  type QueueState,
  type Run,
  type Strategy,
} from '../core/index.ts';
import { recordHealth } from './health.ts';
import { silentLogger, type Logger } from '../log.ts';
import { safeSlug } from '../store/slug.ts';
import type { OutboxEntry, QueueFile, QueueNotice, Store } from '../store/types.ts';
import { toQueueSettings, type QueueCi, type RepoConfig } from '../config/repo.ts';
import { effectKey, type DispatchContext, type Performer } from './effects.ts';
import { KeyedLock } from './lock.ts';

/** Verdicts kept in the queue file; older ones go to the history file. */
export const VERDICTS_KEPT = 200;
const NOTICES_KEPT = 50;
const DELIVERIES_KEPT = 5000;

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
}

function pushNotice(file: QueueFile, notice: QueueNotice): void {
  file.notices.push(notice);
  if (file.notices.length > NOTICES_KEPT) file.notices.splice(0, file.notices.length - NOTICES_KEPT);
}

export type StepObserver = (
  queue: string,
  event: CoreEvent,
  effects: Effect[],
  before: QueueState,
  after: QueueState,
) => void;

export interface SubmitOptions {
  /** Id of the delivery that carried the event; a second delivery with the same id changes nothing. */
  delivery?: string;
  /** Applied to the queue file before stepping (CI provider, report settings). */
  prepare?: (file: QueueFile) => void;
  /**
   * Wait until the effects are performed (default). Effects that submit events themselves (a run's
   * URL, a result) must not wait: the drain that performs them would be waiting for itself.
   */
  wait?: boolean;
  /** Told the effects the step decided on, once they are decided (the admin API reads a command's reply). */
  onEffects?: (effects: Effect[]) => void;
}

export class Engine {
  private readonly lock = new KeyedLock();
  private readonly inProgress = new Set<string>();
  /** Outbox entries this process decided and has not tried yet: performed without asking whether they took. */
  private readonly unperformed = new Set<string>();
  private readonly now: () => number;
  private readonly log: Logger;
  /** Queues whose outbox is being drained, with the promise of that drain. */
  private readonly draining = new Map<string, Promise<void>>();

  constructor(private readonly opts: EngineOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
  }

  /** A new queue file with an empty state. */
  private fresh(queue: string): QueueFile {
    const state = emptyQueue(queue, this.opts.settingsFor?.(queue) ?? {}, safeSlug(queue));
    return { schema: 1, name: queue, state, outbox: [], notices: [], deliveries: [], historyMoved: 0, ci: null };
  }

  /**
   * Steps `queue` with `event`: load, step, save state and outbox atomically, then perform the
   * effects. Returns false when the delivery was seen before and nothing changed.
   */
  async submit(queue: string, event: CoreEvent, options: SubmitOptions = {}): Promise<boolean> {
    const applied = await this.lock.run(queue, async () => {
      const file = (await this.opts.store.loadQueue(queue)) ?? this.fresh(queue);
      if (options.delivery && file.deliveries.includes(options.delivery)) {
        this.log.info({ queue, delivery: options.delivery }, 'delivery seen before; ignored');
        return false;
      }
      options.prepare?.(file);
      const before = file.state;
      // new run keys carry random text, so that nobody can guess a key from the queue's name
      const salted: CoreEvent = event.salt ? event : { ...event, salt: randomBytes(5).toString('hex') };
      const result = step(file.state, salted, { strategies: this.opts.strategies ?? {} });
      // a tick that changed nothing is not written: the ticker runs every few seconds on every queue
      if (
        event.type === 'tick' &&
        result.effects.length === 0 &&
        !options.prepare &&
        JSON.stringify(before) === JSON.stringify(result.state)
      )
        return false;
      file.state = result.state;
      file.health = recordHealth(file.health ?? [], before.stats, result.state, result.effects, this.now());
      try {
        this.opts.observer?.(queue, event, result.effects, before, result.state);
        options.onEffects?.(result.effects);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'step observer failed');
      }
      const base = `${result.state.seq}.${this.now()}`;
      result.effects.forEach((effect, i) => {
        if (effect.type === 'log') {
          this.log[effect.level]({ queue }, effect.message);
          return;
        }
        if (effect.type === 'notice') {
          pushNotice(file, {
            at: event.at,
            level: effect.level,
            code: effect.code,
            message: effect.message,
            ...(effect.change ? { change: effect.change } : {}),
          });
          this.log[effect.level === 'error' ? 'error' : effect.level]({ queue, code: effect.code }, effect.message);
          return;
        }
        const id = `${base}.${i}`;
        // attempted from the start: this write is durable before the effect is first performed, and
        // saves a second write per step; this process knows its own entries need no check (below)
        file.outbox.push({ id, key: effectKey(queue, effect, id), effect, attempted: true });
        this.unperformed.add(id);
      });
      if (options.delivery) {
        file.deliveries.push(options.delivery);
        if (file.deliveries.length > DELIVERIES_KEPT)
          file.deliveries.splice(0, file.deliveries.length - DELIVERIES_KEPT);
      }
      await this.moveHistory(file);
      await this.opts.store.saveQueue(file);
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
   * Performs the queue's pending outbox entries. Entries are written attempted with the step that
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
      const file = await this.opts.store.loadQueue(queue);
      if (!file) return null;
      const todo = file.outbox.filter((e) => !this.inProgress.has(e.id));
      if (todo.length === 0) return null;
      // entries of a file written before outbox entries were born attempted
      const fresh = todo.filter((e) => !e.attempted);
      for (const e of fresh) e.attempted = true;
      if (fresh.length) await this.opts.store.saveQueue(file);
      for (const e of todo) this.inProgress.add(e.id);
      // an entry this process made and never tried is performed at once; any other (left by a crash,
      // or tried before and failed, perhaps after it took) is first checked with the performer
      const recovered = todo.filter((e) => !fresh.includes(e) && !this.unperformed.has(e.id));
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
      const file = await this.opts.store.loadQueue(queue);
      if (!file) return;
      file.outbox = file.outbox.filter((e: OutboxEntry) => !done.includes(e.id));
      await this.opts.store.saveQueue(file);
    });
  }

  /** On start: performs every pending effect again and lets dispatchers pick up runs in flight. */
  async recover(): Promise<void> {
    for (const bad of (await this.opts.store.unreadableFiles?.()) ?? [])
      this.log.error(
        { file: bad.file, reason: bad.reason },
        `queue file ${bad.file} cannot be read (${bad.reason}): its queue is not started and the file is left ` +
          'as it is; restore it from a backup, or move it away to start that queue afresh',
      );
    for (const queue of await this.opts.store.listQueues()) {
      let file: QueueFile | null;
      try {
        await this.drain(queue);
        file = await this.opts.store.loadQueue(queue);
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
    for (const queue of await this.opts.store.listQueues()) {
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
   */
  async configure(queue: string, config: RepoConfig, ci: QueueCi, at: number): Promise<void> {
    const settings = toQueueSettings(config);
    const file = await this.read(queue);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (
      file &&
      same({ ...file.state.settings, ...settings }, file.state.settings) &&
      same(file.repoConfig, config) &&
      same(file.ci, ci)
    )
      return;
    await this.submit(
      queue,
      { type: 'configure', at, settings },
      {
        prepare: (f) => {
          f.ci = ci;
          f.repoConfig = config;
        },
      },
    );
  }

  /** Adds a notice for the dashboard to an existing queue (a config error, say) without stepping it. */
  async addNotice(queue: string, notice: QueueNotice): Promise<void> {
    await this.lock.run(queue, async () => {
      const file = await this.opts.store.loadQueue(queue);
      if (!file) return;
      pushNotice(file, notice);
      await this.opts.store.saveQueue(file);
    });
  }

  /** The queue that has (or had) change `id`, with its file; null when no queue knows it. */
  async findChange(id: string): Promise<{ queue: string; file: QueueFile } | null> {
    for (const queue of await this.queues()) {
      const file = await this.read(queue);
      if (file && (Object.hasOwn(file.state.changes, id) || file.state.forgotten.includes(id))) return { queue, file };
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

  async read(queue: string): Promise<QueueFile | null> {
    return this.opts.store.loadQueue(queue);
  }

  async queues(): Promise<string[]> {
    return this.opts.store.listQueues();
  }

  /** Resolves once every queue's lock and drain are idle. */
  async idle(): Promise<void> {
    for (;;) {
      const all = [...this.draining.values()];
      await this.lock.idle();
      if (all.length === 0) return;
      await Promise.allSettled(all);
    }
  }
}
