// The durable inbox of /gerrit/events. The webhooks plugin gives up on an answer after 5 s and
// delivers again, so an event is answered as soon as it is on disk: written and fsynced under
// <data>/gerrit-inbox/pending/, then handled in arrival order (per project), then removed. A crash between the
// two leaves it pending, and it is handled at the next start; one whose handling throws is kept
// under failed/. Every event type is de-duplicated by its identity (events.ts eventIdentity): one
// pending or recently handled is not taken again.
import { appendFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.ts';
import { writeDurably } from '../../store/durable.ts';
import { eventIdentity } from './events.ts';
import { BoundedSet } from '../../util/bounded.ts';
import type { GerritEvent } from './types.ts';

/** How many handled identities are remembered to drop a late redelivery. */
const REMEMBERED = 5000;

interface Pending {
  seq: number;
  identity: string;
  event: GerritEvent;
}

export interface GerritInboxOptions {
  /** The inbox's directory, under the data directory. */
  dir: string;
  handle: (event: GerritEvent) => Promise<void>;
  log: Logger;
}

export class GerritInbox {
  private readonly pending = new Map<string, Pending>();
  private readonly handled = new BoundedSet<string>(REMEMBERED);
  private seq = 0;
  /**
   * Each project's events are handled one after another, in arrival order; different projects' side
   * by side (a project's handling waits on Gerrit's REST answers, and must not hold up the others).
   */
  private readonly chains = new Map<string, Promise<void>>();
  private loaded: Promise<void> | null = null;

  constructor(private readonly opts: GerritInboxOptions) {}

  private get pendingDir(): string {
    return join(this.opts.dir, 'pending');
  }

  private get handledFile(): string {
    return join(this.opts.dir, 'handled.log');
  }

  /** Reads what a previous process left: pending events (handled now, in order) and handled identities. */
  start(): Promise<void> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  private async load(): Promise<void> {
    await mkdir(this.pendingDir, { recursive: true });
    const lines = (await readFile(this.handledFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    for (const id of lines.slice(-REMEMBERED)) this.handled.add(id);
    if (lines.length > 2 * REMEMBERED) await writeDurably(this.handledFile, `${[...this.handled].join('\n')}\n`);
    const left: Pending[] = [];
    for (const name of (await readdir(this.pendingDir)).filter((n) => n.endsWith('.json'))) {
      try {
        left.push(JSON.parse(await readFile(join(this.pendingDir, name), 'utf8')) as Pending);
      } catch (err) {
        this.opts.log.error({ file: name, err: (err as Error).message }, 'unreadable pending Gerrit event kept aside');
      }
    }
    left.sort((a, b) => a.seq - b.seq);
    this.seq = left.at(-1)?.seq ?? 0;
    if (left.length) this.opts.log.info({ events: left.length }, 'handling Gerrit events received before a restart');
    for (const p of left) this.enqueue(p);
  }

  /** Stores an event durably and schedules it; false when the same event is pending or was handled. */
  async accept(event: GerritEvent): Promise<boolean> {
    await this.start();
    const identity = eventIdentity(event);
    if (this.pending.has(identity) || this.handled.has(identity)) {
      this.opts.log.info({ type: event.type, identity }, 'Gerrit event delivered again; dropped');
      return false;
    }
    const p: Pending = { seq: ++this.seq, identity, event };
    this.pending.set(identity, p);
    try {
      await writeDurably(join(this.pendingDir, `${identity}.json`), JSON.stringify(p));
    } catch (err) {
      this.pending.delete(identity);
      throw err;
    }
    this.enqueue(p);
    return true;
  }

  private enqueue(p: Pending): void {
    this.pending.set(p.identity, p);
    const project = p.event.change?.project ?? p.event.refUpdate?.project ?? '';
    const chain = (this.chains.get(project) ?? Promise.resolve()).then(() => this.run(p));
    this.chains.set(project, chain);
    void chain.then(() => {
      if (this.chains.get(project) === chain) this.chains.delete(project);
    });
  }

  private async run(p: Pending): Promise<void> {
    const file = join(this.pendingDir, `${p.identity}.json`);
    let failed = false;
    try {
      await this.opts.handle(p.event);
    } catch (err) {
      // not retried, which would block every event after it: kept under failed/ to look at or replay
      failed = true;
      this.opts.log.error(
        { type: p.event.type, err: (err as Error).message, kept: join(this.opts.dir, 'failed') },
        'Gerrit event failed; it is kept in the inbox under failed/',
      );
    }
    try {
      this.handled.add(p.identity);
      await appendFile(this.handledFile, `${p.identity}\n`);
      if (failed) {
        await mkdir(join(this.opts.dir, 'failed'), { recursive: true });
        await rename(file, join(this.opts.dir, 'failed', `${p.identity}.json`));
      } else await rm(file, { force: true });
    } catch (err) {
      this.opts.log.error({ err: (err as Error).message }, 'could not mark a Gerrit event handled');
    } finally {
      this.pending.delete(p.identity);
    }
  }

  /** Resolves when every accepted event has been handled (tests, shutdown). */
  async idle(): Promise<void> {
    await this.start();
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}
