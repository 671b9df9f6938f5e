// The engine steps queues: under a queue's lock it steps the pure core on the queue's file, appends the event and
// the effects decided to the journal (durably, queue-files.ts), and only then performs them (outbox.ts). On start,
// pending effects are performed again and runs in flight picked up. Questions go to the read model (read-model.ts).
import { randomUUID } from 'node:crypto';
import { advance, step, type CoreEvent, type Effect, type Strategy } from '../core/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { InboxItem, OutboxEntry, QueueFile, QueueNotice, QueueSetup } from '../store/types.ts';
import { StoreWriteError } from '../store/errors.ts';
import type { QueueCi, RepoConfig } from '../config/repo.ts';
import { configureQueue, type ConfigureOutcome } from './config-change.ts';
import { effectKey, type DispatchContext } from './effects.ts';
import { KeyedLock } from './lock.ts';
import { WakeTimers } from './wake-timers.ts';
import { Outbox } from './outbox.ts';
import { QueueFiles } from './queue-files.ts';
import { ReadModel } from './read-model.ts';
import { recordStep } from './replay.ts';
import { recoverQueues } from './recovery.ts';
import { QueueMoves } from './queue-moves.ts';
import { QueueOwnedError, type EngineOptions, type StateBefore, type SubmitOptions } from './options.ts';

export { VERDICTS_KEPT } from './queue-files.ts';
export {
  QueueOwnedError,
  type EngineOptions,
  type EngineRole,
  type StateBefore,
  type StepObserver,
  type SubmitOptions,
} from './options.ts';

export class Engine {
  private readonly lock = new KeyedLock();
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly strategies: Record<string, Strategy>;
  private readonly files: QueueFiles;
  private readonly outbox: Outbox;
  /** Ticks a queue when a change it holds for company is due. */
  private readonly wakes: WakeTimers;
  /** What is asked of the queues: a change, a run, a config, a page's queue. */
  readonly reads: ReadModel;
  /** Queues moving between replicas: taken over, let go, settled. */
  readonly moves: QueueMoves;

  constructor(private readonly opts: EngineOptions) {
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? silentLogger;
    this.strategies = opts.strategies ?? {};
    this.files = new QueueFiles({
      store: opts.store,
      log: this.log,
      now: this.now,
      strategies: this.strategies,
      settingsFor: opts.settingsFor,
      snapshotMinJournalBytes: opts.snapshotMinJournalBytes,
      onLoad: (file) => this.reads.index(file),
    });
    this.reads = new ReadModel(
      this.files,
      () => opts.store.listQueues(),
      // a copy lags while another replica may write the queue: never one whose lease this replica holds
      opts.role ? (queue) => !opts.role!.holds(queue) : undefined,
    );
    this.outbox = new Outbox({
      lock: this.lock,
      files: this.files,
      performer: opts.performer,
      log: this.log,
      context: (queue, file) => this.context(queue, file),
      mayRetry: (queue) => !this.forwarding(queue),
    });
    this.wakes = new WakeTimers(this.now, (queue) => {
      this.submit(queue, { type: 'tick', at: this.now() }).catch((err) =>
        this.log.error({ queue, err: (err as Error).message }, 'waking the queue for a held change failed'),
      );
    });
    const { lock, files, outbox, wakes, reads } = this;
    this.moves = new QueueMoves({ lock, files, outbox, wakes, reads, recover: (queues) => this.recover(queues) });
  }

  /**
   * Steps `queue` with `event`: step the core on the queue's file, append the event and the effects
   * it decided to the journal, then perform the effects. Returns false when the delivery was seen
   * before, or a tick changed nothing.
   */
  async submit(queue: string, event: CoreEvent, options: SubmitOptions = {}): Promise<boolean> {
    if (this.forwarding(queue)) {
      const item: InboxItem = { type: 'event', event, ...(options.setup ? { setup: options.setup } : {}) };
      return this.opts.role!.forward(queue, item, options.delivery);
    }
    return this.step(queue, event, options);
  }

  /** Steps the queue here, under its lock, then performs the effects (or starts to, with `wait: false`). */
  private async step(queue: string, event: CoreEvent, options: SubmitOptions): Promise<boolean> {
    const applied = await this.lock.run(queue, () => this.stepLocked(queue, event, options));
    if (applied) {
      const drained = this.outbox.drain(queue);
      if (options.wait === false)
        drained.catch((err) => this.log.error({ queue, err: (err as Error).message }, 'performing effects failed'));
      else await drained;
    }
    return applied;
  }

  /** The step itself, under the queue's lock: checks, step, journal, then the indexes and timers. */
  private async stepLocked(queue: string, event: CoreEvent, options: SubmitOptions): Promise<boolean> {
    const file = (await this.files.get(queue)) ?? (await this.files.create(queue));
    // only the owner sets a queue: checked under the lock, so that two first configs cannot both claim it
    const claim = options.setup?.owner;
    if (claim && file.owner && file.owner !== claim) throw new QueueOwnedError(queue, file.owner);
    if (options.delivery && file.deliveries.includes(options.delivery)) {
      this.log.info({ queue, delivery: options.delivery }, 'delivery seen before; ignored');
      return false;
    }
    // new run keys carry random text, so that nobody can guess a key from the queue's name (40 bits
    // from a UUID's first twelve random hex digits: randomUUID draws from a cache, randomBytes does not)
    const salted: CoreEvent = event.salt ? event : { ...event, salt: randomUUID().replace('-', '').slice(0, 10) };
    const before: StateBefore = {
      stats: { ...file.state.stats },
      seq: file.state.seq,
      runStates: this.opts.observer
        ? Object.fromEntries(Object.entries(file.state.runs).map(([k, r]) => [k, r.state]))
        : {},
    };
    let effects: Effect[] | null;
    try {
      effects = this.stepFile(file, salted, options.setup);
    } catch (err) {
      this.files.forget(queue);
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
    await this.journalStep(file, { event: salted, effects, before, options });
    this.reads.index(file);
    this.wakes.update(queue, file.state);
    for (const effect of effects) {
      if (effect.type === 'log') this.log[effect.level]({ queue }, effect.message);
      if (effect.type === 'notice')
        this.log[effect.level === 'error' ? 'error' : effect.level]({ queue, code: effect.code }, effect.message);
    }
    return true;
  }

  /** Journals a step with the outbox entries of its effects (notices and logs are not performed). */
  private async journalStep(
    file: QueueFile,
    step: { event: CoreEvent; effects: Effect[]; before: StateBefore; options: SubmitOptions },
  ): Promise<void> {
    const { event, effects, before, options } = step;
    const base = `${file.state.seq}.${this.now()}`;
    const outbox: OutboxEntry[] = [];
    [...effects, ...(this.opts.moreEffects?.(file, effects) ?? [])].forEach((effect, i) => {
      if (effect.type === 'log' || effect.type === 'notice') return;
      const id = `${base}.${i}`;
      outbox.push({ id, key: effectKey(file.name, effect, id), effect });
    });
    const body = {
      type: 'step' as const,
      at: this.now(),
      event,
      ...(options.delivery ? { delivery: options.delivery } : {}),
      ...(options.setup ? { setup: options.setup } : {}),
      outbox,
    };
    await this.files.append(file, body, ({ n }) => recordStep(file, { ...body, n }, effects, before));
    // the journal has them before they are first performed; this process knows its own entries need
    // no check with the performer
    this.outbox.decided(
      file.name,
      outbox.map((e) => e.id),
    );
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

  private context(queue: string, file: QueueFile): DispatchContext {
    return {
      queue,
      file,
      now: this.now,
      notice: (notice) => this.addNotice(queue, notice),
      submit: async (q, event, delivery) =>
        void (await this.submit(q, event, { wait: false, ...(delivery ? { delivery } : {}) })),
    };
  }

  /**
   * On start, or when this replica takes queues over (`only`): performs every pending effect again and
   * lets dispatchers pick up runs in flight.
   */
  async recover(only?: string[]): Promise<void> {
    await recoverQueues({
      only,
      store: this.opts.store,
      files: this.files,
      outbox: this.outbox,
      performer: this.opts.performer,
      log: this.log,
      context: (queue, file) => this.context(queue, file),
    });
  }

  /**
   * Ticks every queue this process writes (time-outs, deadlines); one whose tick fails is logged, and
   * the others still tick.
   */
  async tick(): Promise<void> {
    const at = this.now();
    for (const queue of await this.opts.store.listQueues()) {
      if (this.forwarding(queue)) continue;
      try {
        await this.submit(queue, { type: 'tick', at });
      } catch (err) {
        this.log.error({ queue, err: (err as Error).message }, 'tick failed for this queue; the others go on');
      }
    }
  }

  /**
   * Applies a repo config to a queue only when it differs from the queue's; with `owner`, a queue
   * without one is claimed, and one owned by another is left untouched (config-change.ts).
   */
  configure(queue: string, config: RepoConfig, ci: QueueCi, at: number, owner?: string): Promise<ConfigureOutcome> {
    return configureQueue(this, { queue, config, ci, at, owner });
  }

  /** Whether what this replica accepts for the queue goes to the inbox (another replica writes it). */
  forwarding(queue: string): boolean {
    return !!this.opts.role && !this.opts.role.writes(queue);
  }

  /**
   * Applies an item stored in the inbox, with its delivery id: here or not at all, never sent back to
   * the inbox. A queue being taken over is not written yet, but its lease is held: its items come first.
   */
  async applyForwarded(queue: string, item: InboxItem, delivery: string): Promise<void> {
    if (this.opts.role && !this.opts.role.holds(queue))
      throw new StoreWriteError(`this replica does not hold the lease of queue ${queue} now`, null);
    if (item.type === 'notice') await this.noticeHere(queue, item.notice);
    else await this.step(queue, item.event, { delivery, wait: false, ...(item.setup ? { setup: item.setup } : {}) });
  }

  /** Adds a notice for the dashboard to an existing queue (a config error, say) without stepping it. */
  async addNotice(queue: string, notice: QueueNotice): Promise<void> {
    if (this.forwarding(queue)) {
      await this.opts.role!.forward(queue, { type: 'notice', notice });
      return;
    }
    await this.noticeHere(queue, notice);
  }

  private async noticeHere(queue: string, notice: QueueNotice): Promise<void> {
    await this.lock.run(queue, async () => {
      const file = await this.files.get(queue);
      if (file) await this.files.append(file, { type: 'notice', notice });
    });
  }

  /** A clean stop: once idle, snapshots every queue with journal records (the next start replays nothing). */
  async close(): Promise<void> {
    this.wakes.clear();
    this.outbox.stop();
    await this.idle();
    // only the queues this process writes are its own to snapshot
    for (const queue of this.files.withJournal().filter((q) => !this.forwarding(q))) {
      try {
        await this.lock.run(queue, async () => {
          const file = await this.files.get(queue);
          if (file) await this.files.snapshot(file);
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
      const all = this.outbox.running();
      if (all.length === 0 && !this.lock.busy) return;
      await Promise.allSettled(all);
    }
  }
}
