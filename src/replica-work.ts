// What a server does for the queues it writes, started once it is wired. With the embedded store it
// writes every queue: it recovers them, starts the hosts' watchers and the ticker. On PostgreSQL its
// part follows its leases (store/pg/replica.ts): queues taken over are recovered, queues lost or given
// up are let go, the watchers run while it holds the sources lease; the ticker ticks and the inbox
// drain applies only the queues written here, and the copies of the others are brought up to date every second.
import type { Engine, EngineRole } from './engine/engine.ts';
import { InboxDrain, type InboxSource } from './engine/inbox-drain.ts';
import type { Host } from './hosts/types.ts';
import type { Logger } from './log.ts';
import type { PgInbox } from './store/pg/inbox.ts';
import type { Replica, ReplicaHooks } from './store/pg/replica.ts';

/** How often the copies of queues other replicas write are marked behind the store, and the inbox looked at. */
const READ_AGAIN_MS = 1000;
const INBOX_POLL_MS = 200;

export interface ReplicaWorkOptions {
  engine: Engine;
  hosts: Host[];
  log: Logger;
  tickMs: number;
  /** Told when the watchers start or stop, and how many queues are written here (for /healthz). */
  say: (status: string, message: string) => void;
}

/** A replica's part for the engine: the queues it steps, and the inbox for what it accepts for the others. */
export function engineRole(replica: Replica, inbox: PgInbox): EngineRole {
  return {
    writes: (queue) => replica.writes(queue),
    holds: (queue) => replica.holds(queue),
    forward: (queue, item, delivery) => replica.forward(queue, () => inbox.put(queue, item, delivery)),
  };
}

export class ReplicaWork {
  private readonly timers: NodeJS.Timeout[] = [];
  private drain: InboxDrain | null = null;
  private replica: Replica | null = null;

  constructor(private readonly opts: ReplicaWorkOptions) {}

  /** Starts writing every queue (the embedded store): recovery, then the watchers and the ticker. */
  async startAlone(): Promise<void> {
    await this.opts.engine.recover();
    await this.startSources();
    this.startTicker();
  }

  /** Starts a replica's part on PostgreSQL: the ticker, the inbox drain, fresh reads, and the leases. */
  async startReplica(replica: Replica, inbox: InboxSource): Promise<void> {
    const { engine, log } = this.opts;
    this.replica = replica;
    this.startTicker();
    this.drain = new InboxDrain({ inbox, engine, log, intervalMs: INBOX_POLL_MS, queues: () => replica.written() });
    this.drain.start();
    const reader = setInterval(() => engine.reads.markStale(), READ_AGAIN_MS);
    reader.unref();
    this.timers.push(reader);
    await replica.start(this.hooks());
    this.say();
  }

  /** What the replica's leases start and stop. */
  private hooks(): ReplicaHooks {
    const { engine, hosts } = this.opts;
    return {
      sourcesStarted: async () => {
        await this.startSources();
        this.say();
      },
      sourcesStopped: async () => {
        for (const host of hosts) host.stopSources?.();
        this.say();
      },
      queuesGained: async (queues) => {
        await engine.moves.adopt(queues);
        this.say();
      },
      queuesLost: async (queues) => {
        engine.moves.letGo(queues);
        this.say();
      },
      mayMove: async (queue) => !(await engine.moves.busy(queue)),
      queueLeaving: async (queue) => {
        await engine.moves.settle(queue);
        engine.moves.letGo([queue]);
        this.say();
      },
      catchUp: (queues) => this.drain!.catchUp(queues),
    };
  }

  private async startSources(): Promise<void> {
    for (const host of this.opts.hosts) await host.startSources?.();
  }

  private startTicker(): void {
    const { engine, log, tickMs } = this.opts;
    const tick = () => void engine.tick().catch((err) => log.error({ err: (err as Error).message }, 'tick failed'));
    this.timers.push(setInterval(tick, tickMs));
  }

  /** Says what this replica does now: how many queues it writes, whether it runs the watchers. */
  private say(): void {
    const part = this.replica?.summary();
    if (!part) return;
    this.opts.say(
      'ok',
      `replica ${part.name} writes ${part.queues.length} of ${part.of} queue(s) (${part.replicas} replica(s) alive)` +
        (part.sources ? ' and runs the watchers' : ''),
    );
  }

  /** Stops everything at a clean stop: the leases change hands no more, the watchers, ticker and drain stop. */
  async close(): Promise<void> {
    await this.replica?.quiet();
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    for (const host of this.opts.hosts) host.stopSources?.();
    await this.drain?.stop();
  }
}
