// Reads `gerrit stream-events` over SSH (GERRIT_SSH=host:port): splits the stream on lines (chunks do
// not align with events), keeps the connection alive, reconnects with backoff, and after a reconnect
// catches up through the events-log plugin (also when Gerrit says it dropped events) when it is
// installed, or says that events may be missing.
import { createHash } from 'node:crypto';
import { Client } from 'ssh2';
import { silentLogger, type Logger } from '../../log.ts';
import { parseEvent } from './events.ts';
import type { GerritEvent } from './types.ts';

/** The SHA256 fingerprint of a raw public key, as `ssh-keygen -lf` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Whether the server's raw host key is the one configured (a fingerprint or a public key line); null: any. */
export function hostKeyMatches(expected: string | null, key: Buffer): boolean {
  if (expected === null) return true;
  const wanted = expected.trim();
  if (wanted.startsWith('SHA256:')) return wanted === fingerprint(key);
  const blob = wanted.split(/\s+/)[1];
  return blob !== undefined && blob === key.toString('base64');
}

/** Accumulates chunks and yields whole lines; the last, unfinished line waits for the next chunk. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim().length > 0);
  }
}

export interface GerritStreamOptions {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer;
  handle: (event: GerritEvent) => Promise<void>;
  /**
   * The server's host key, as `ssh-keygen -lf` prints its fingerprint (`SHA256:...`) or as a public
   * key line (`ssh-ed25519 AAAA...`): a server that shows another key is not talked to. `null` accepts
   * any key, only when the operator opted out explicitly.
   */
  hostKey: string | null;
  /** Events since a time (seconds), from the events-log plugin; null when it is not installed. */
  catchUp?: (sinceSeconds: number) => Promise<GerritEvent[] | null>;
  log?: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  keepaliveMs?: number;
}

export class GerritStream {
  private client: Client | null = null;
  private stopped = false;
  private backoff: number;
  private connectedOnce = false;
  private lastEventAt: number | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(private readonly opts: GerritStreamOptions) {
    this.backoff = opts.minBackoffMs ?? 1000;
    this.log = opts.log ?? silentLogger;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.client?.end();
  }

  /** Resolves when every event read so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(event: GerritEvent): void {
    if (typeof event.eventCreatedOn === 'number')
      this.lastEventAt = Math.max(this.lastEventAt ?? 0, event.eventCreatedOn);
    this.chain = this.chain
      .then(() => this.opts.handle(event))
      .catch((err) =>
        this.log.error({ err: (err as Error).message, type: event.type }, 'handling a Gerrit event failed'),
      );
  }

  private connect(): void {
    if (this.stopped) return;
    const client = new Client();
    this.client = client;
    const splitter = new LineSplitter();
    let reconnecting = false;
    const again = (why: string) => {
      if (reconnecting || this.stopped) return;
      reconnecting = true;
      this.log.warn({ why, retryInMs: this.backoff }, `Gerrit stream-events connection lost (${why}); reconnecting`);
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 60_000);
    };
    client.on('ready', () => {
      const first = !this.connectedOnce;
      this.connectedOnce = true;
      this.backoff = this.opts.minBackoffMs ?? 1000;
      if (!first) void this.catchUp();
      client.exec('gerrit stream-events', (err, stream) => {
        if (err) return again(`exec failed: ${err.message}`);
        this.log.info({ host: this.opts.host }, 'reading Gerrit stream-events over SSH');
        stream.on('data', (chunk: Buffer) => {
          for (const line of splitter.push(chunk.toString('utf8'))) {
            let json: unknown;
            try {
              json = JSON.parse(line);
            } catch {
              this.log.warn({ line: line.slice(0, 200) }, 'stream-events line is not JSON; skipped');
              continue;
            }
            const event = parseEvent(json);
            if (event?.type === 'dropped-output') {
              // Gerrit dropped events for this slow reader: what was lost is asked for again
              this.log.warn({ host: this.opts.host }, 'Gerrit dropped stream events; catching up through events-log');
              void this.catchUp();
            } else if (event) this.enqueue(event);
          }
        });
        stream.on('close', () => {
          client.end();
          again('stream closed');
        });
      });
    });
    client.on('error', (err) => again(err.message));
    client.on('close', () => again('connection closed'));
    client.connect({
      host: this.opts.host,
      port: this.opts.port,
      username: this.opts.username,
      privateKey: this.opts.privateKey,
      hostVerifier: (key: Buffer) => {
        const ok = hostKeyMatches(this.opts.hostKey, key);
        if (!ok)
          this.log.error(
            { host: this.opts.host, seen: fingerprint(key) },
            'Gerrit SSH host key does not match GERRIT_SSH_HOST_KEY; not connecting',
          );
        return ok;
      },
      keepaliveInterval: this.opts.keepaliveMs ?? 15_000,
      keepaliveCountMax: 3,
      readyTimeout: 20_000,
    });
  }

  private async catchUp(): Promise<void> {
    const since = this.lastEventAt;
    if (since === null) return;
    const events = this.opts.catchUp ? await this.opts.catchUp(since).catch(() => null) : null;
    if (events === null) {
      this.log.warn(
        { since },
        'events may have been missed while the stream was down (the events-log plugin is not available); /ost enqueue adds a missed change',
      );
      return;
    }
    this.log.info({ since, count: events.length }, 'caught up through the events-log plugin');
    for (const e of events) this.enqueue(e);
  }
}
