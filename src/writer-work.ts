// What only the replica that writes does, started when it starts writing and stopped when it stops:
// recovery (pending effects performed, runs in flight picked up), the hosts' watchers, the ticker and
// the inbox drain. A replica that does not write reads the queues fresh from the store instead. With
// the embedded store the server always writes, and this starts once.
import type { Engine } from './engine/engine.ts';
import { InboxDrain, type InboxSource } from './engine/inbox-drain.ts';
import type { Host } from './hosts/types.ts';
import type { Logger } from './log.ts';

/** How often a replica that does not write forgets what it read, and the writer looks at the inbox. */
const READ_AGAIN_MS = 1000;
const INBOX_POLL_MS = 200;

export interface WriterWorkOptions {
  engine: Engine;
  hosts: Host[];
  log: Logger;
  tickMs: number;
  inbox?: InboxSource | undefined;
}

export class WriterWork {
  /**
   * Whether the engine steps the queues itself (else it forwards to the inbox). It turns on only once
   * what was read as a reader is forgotten, so that no step ever runs on a copy older than the store.
   */
  writing = false;
  private ticker: NodeJS.Timeout | null = null;
  private reader: NodeJS.Timeout | null = null;
  private readonly drain: InboxDrain | null;

  constructor(private readonly opts: WriterWorkOptions) {
    this.drain = opts.inbox
      ? new InboxDrain({ inbox: opts.inbox, engine: opts.engine, log: opts.log, intervalMs: INBOX_POLL_MS })
      : null;
  }

  /** Starts writing: forgets what was read as a reader, recovers, then starts the watchers, ticker and drain. */
  async start(): Promise<void> {
    const { engine, hosts, log } = this.opts;
    if (this.reader) clearInterval(this.reader);
    this.reader = null;
    engine.dropCaches();
    this.writing = true;
    await engine.recover();
    for (const host of hosts) await host.startSources?.();
    const tick = () => void engine.tick().catch((err) => log.error({ err: (err as Error).message }, 'tick failed'));
    this.ticker = setInterval(tick, this.opts.tickMs);
    this.drain?.start();
  }

  /** Stops writing (the lease went to another replica): the writer's work stops, and queues are read fresh. */
  async stop(): Promise<void> {
    await this.halt();
    this.read();
  }

  /** Stops the watchers, the ticker and the drain; the engine forwards from now on. */
  private async halt(): Promise<void> {
    this.writing = false;
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    for (const host of this.opts.hosts) host.stopSources?.();
    await this.drain?.stop();
  }

  /** Reads the queues fresh from the store, over and over (a replica that does not write). */
  read(): void {
    this.opts.engine.dropCaches();
    this.reader ??= setInterval(() => this.opts.engine.dropCaches(), READ_AGAIN_MS);
    this.reader.unref();
  }

  /** Stops everything at a clean stop. */
  async close(): Promise<void> {
    await this.halt();
    if (this.reader) clearInterval(this.reader);
    this.reader = null;
  }
}
