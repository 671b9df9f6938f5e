// A bed of `ost-gate serve` replicas on one PostgreSQL database, as child processes, with what they
// talk to as real HTTP servers on 127.0.0.1 (child processes cannot be reached by nock): the stand-in
// Gerrit (fake-gerrit.ts, its REST answers served over HTTP; it records the reviews posted) and a
// stand-in webhook CI that records every run it is sent and reports each as passed through the signed
// callback of a random live replica. Events go to random live replicas; the bed can SIGKILL the
// writing replica and start it again on the same data directory. Used by the replica tests and by
// `npm run bench:ha`.
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '../../src/http/signature.ts';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import { serveProcess } from './cli.ts';
import { freePort } from './ports.ts';
import { FakeGerrit } from './fake-gerrit.ts';

const EVENTS_TOKEN = 'events-token-for-the-bed';
const CALLBACK_SECRET = 'callback-secret-for-the-bed';

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

export interface BedReplica {
  name: string;
  base: string;
  /** Whether the process runs (not killed, or started again). */
  alive: boolean;
  child: ReturnType<typeof serveProcess>['child'];
  output: () => string;
  exited: Promise<number | null>;
}

export interface ReplicaBedOptions {
  /** The database the replicas share; null: one server on the embedded store instead. */
  databaseUrl: string | null;
  replicas: number;
  projects: number;
  leaseSeconds?: number;
  /** How runs are run: the stand-in webhook CI (the default), or a `command:` runner that exits 0 at once. */
  ci?: 'webhook' | 'command';
  /** The stand-in webhook CI reports a run failed when this says so of its refs (default: every run passes). */
  fails?: (refs: Record<string, string>) => boolean;
  /** More environment for every replica (`OST_PUBLIC_URL`...). */
  env?: Record<string, string>;
}

export class ReplicaBed {
  readonly gerrit: FakeGerrit;
  /** The senders' connections, kept alive between events. */
  private readonly senders = new Agent({ keepAlive: true });
  readonly replicas: BedReplica[] = [];
  /** Run keys the CI was sent, with how many times each. */
  readonly dispatched = new Map<string, number>();
  private readonly servers: Server[] = [];
  /** Requests the stand-ins could not answer, with why. */
  readonly faults: string[] = [];
  /** What the replicas killed so far said. */
  readonly gone: string[] = [];
  /** Where the server config and each replica's data directory are. */
  dir = '';
  /** Called with each Gerrit request once it is answered, before the answer is sent (a test kills here). */
  onGerritRequest: ((method: string, path: string) => void) | null = null;
  private stopping = false;

  private constructor(
    private readonly opts: ReplicaBedOptions,
    gerritUrl: string,
    private readonly ciUrl: string,
  ) {
    this.gerrit = new FakeGerrit(gerritUrl);
  }

  /** Starts the stand-ins, writes the server config, and starts the replicas one after another. */
  static async start(opts: ReplicaBedOptions): Promise<ReplicaBed> {
    const gerritServer = createServer();
    const ciServer = createServer();
    const bed = new ReplicaBed(opts, await listen(gerritServer), await listen(ciServer));
    bed.servers.push(gerritServer, ciServer);
    // a stand-in that fails answers 500 and says why, so that no request waits for an answer forever
    const answering =
      (answer: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
      (req: IncomingMessage, res: ServerResponse) =>
        void answer(req, res).catch((err: Error) => {
          bed.faults.push(`${req.method} ${req.url}: ${err.message}`);
          if (!res.headersSent) res.writeHead(500).end(err.message);
        });
    gerritServer.on(
      'request',
      answering((req, res) => bed.answerGerrit(req, res)),
    );
    ciServer.on(
      'request',
      answering((req, res) => bed.answerCi(req, res)),
    );
    const provider = opts.ci === 'command' ? 'command:ci' : 'webhook:ci';
    bed.gerrit.configFor = () =>
      `ci:\n  provider: ${provider}\n  max_parallel: 4\nflaky:\n  confirm: 1\nreport:\n  notify: [passed, culprit, blocked, fixed]\n`;
    for (let p = 0; p < opts.projects; p++) bed.gerrit.createProject(`p${p}`);
    bed.dir = await mkdtemp(join(tmpdir(), 'ost-bed-'));
    const runners = opts.ci === 'command' ? `runners:\n  ci:\n    command: [/bin/true]\n` : '';
    await writeFile(
      join(bed.dir, 'server.yml'),
      `webhooks:\n  ci:\n    url: ${bed.ciUrl}/runs\n${runners}tick: 500ms\n`,
    );
    for (let i = 0; i < opts.replicas; i++) {
      bed.replicas.push(await bed.launch(`r${i}`, await freePort()));
      await bed.until(async () => (await fetch(`${bed.replicas[i]!.base}/healthz`)).ok);
    }
    return bed;
  }

  private async answerGerrit(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await body(req);
    const [status, answer] = this.gerrit.answer(
      req.method ?? 'GET',
      req.url ?? '/',
      text ? JSON.parse(text) : undefined,
    );
    this.onGerritRequest?.(req.method ?? 'GET', req.url ?? '/');
    res.writeHead(status, { 'content-type': 'application/json' }).end(answer);
  }

  /** The stand-in CI: records the run, answers 202, then reports it passed to a live replica. */
  private async answerCi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { key, refs } = JSON.parse(await body(req)) as { key: string; refs: Record<string, string> };
    this.dispatched.set(key, (this.dispatched.get(key) ?? 0) + 1);
    res.writeHead(202).end();
    const result = JSON.stringify({ key, status: this.opts.fails?.(refs) ? 'failure' : 'success' });
    for (let attempt = 0; attempt < 600 && !this.stopping; attempt++) {
      const replica = this.randomLive();
      const answer = await fetch(`${replica.base}/api/ci/callback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ost-signature-256': sign(CALLBACK_SECRET, result) },
        body: result,
      }).catch(() => null);
      if (answer?.ok) {
        // a result for a run the replica did not find is dropped there: the test should hear of it
        const said = (await answer.json().catch(() => ({}))) as { accepted?: boolean; reason?: string };
        if (said.accepted === false) this.faults.push(`callback of ${key} to ${replica.name}: ${said.reason}`);
        return;
      }
      await sleep(100);
    }
    this.faults.push(`callback of ${key}: no replica took it`);
  }

  private async launch(name: string, port: number): Promise<BedReplica> {
    const dataDir = join(this.dir, `data-${name}`);
    await mkdir(dataDir, { recursive: true });
    const proc = serveProcess(
      {
        PORT: String(port),
        OST_DATA_DIR: dataDir,
        OST_SERVER_CONFIG: join(this.dir, 'server.yml'),
        ...(this.opts.databaseUrl ? { OST_DATABASE_URL: this.opts.databaseUrl } : {}),
        OST_LEASE_SECONDS: String(this.opts.leaseSeconds ?? 4),
        OST_CALLBACK_SECRET: CALLBACK_SECRET,
        GERRIT_URL: this.gerrit.url,
        GERRIT_USERNAME: 'ost-gate',
        GERRIT_PASSWORD: 'gerrit-password',
        GERRIT_EVENTS_TOKEN: EVENTS_TOKEN,
        LOG_LEVEL: process.env.OST_BED_LOG_LEVEL ?? 'warn',
        ...this.opts.env,
        // for profiling a bench: OST_BED_NODE_ARGS=--cpu-prof
      },
      process.env.OST_BED_NODE_ARGS?.split(' ').filter(Boolean),
    );
    const replica: BedReplica = { name, base: `http://127.0.0.1:${port}`, alive: true, ...proc };
    void proc.exited.then(() => (replica.alive = false));
    return replica;
  }

  /** The queues a replica writes, as its /healthz says (null when it does not answer, or has no database). */
  async part(replica: BedReplica): Promise<string[] | null> {
    const res = await fetch(`${replica.base}/healthz`).catch(() => null);
    if (!res) return null;
    return ((await res.json()) as { replica?: { queues: string[] } }).replica?.queues ?? null;
  }

  private randomLive(): BedReplica {
    const live = this.replicas.filter((r) => r.alive);
    return live[Math.floor(Math.random() * live.length)] ?? this.replicas[0]!;
  }

  /** Uploads a change to project `p<p>` and submits it; its events, in the order Gerrit sends them. */
  mergeChange(p: number): GerritEvent[] {
    const change = this.gerrit.upload(`p${p}`);
    return this.gerrit.submit([change], 'FAST_FORWARD_ONLY');
  }

  /**
   * Sends one event to a random live replica; the HTTP status (0: no answer). Through node:http with
   * kept-alive connections: the senders share the two cores with the servers they measure, and
   * fetch costs several times more CPU per request.
   */
  send(event: GerritEvent): Promise<number> {
    const body = JSON.stringify(event);
    const url = new URL(`${this.randomLive().base}/gerrit/events?token=${EVENTS_TOKEN}`);
    return new Promise((resolve) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.senders,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
          res.once('error', () => resolve(0));
        },
      );
      req.once('error', () => resolve(0));
      req.end(body);
    });
  }

  /**
   * A replica that writes queues, the one writing the most (the one server on the embedded store), or
   * null while none says it writes any.
   */
  async writer(): Promise<BedReplica | null> {
    if (!this.opts.databaseUrl) return this.replicas.find((x) => x.alive) ?? null;
    let best: { replica: BedReplica; queues: number } | null = null;
    for (const r of this.replicas.filter((x) => x.alive)) {
      const queues = (await this.part(r))?.length ?? 0;
      if (queues > (best?.queues ?? 0)) best = { replica: r, queues };
    }
    return best?.replica ?? null;
  }

  /** SIGKILLs a replica and starts it again on the same data directory and port. */
  async killAndRestart(replica: BedReplica): Promise<BedReplica> {
    replica.child.kill('SIGKILL');
    await replica.exited;
    this.gone.push(replica.output());
    const again = await this.launch(replica.name, Number(new URL(replica.base).port));
    this.replicas[this.replicas.indexOf(replica)] = again;
    return again;
  }

  /** Every change of every queue, as the API of a live replica (or of `replica`) answers. */
  async changes(replica?: BedReplica): Promise<{ id: string; state: string }[]> {
    const base = (replica ?? this.randomLive()).base;
    const queues = (await (await fetch(`${base}/api/queues`)).json()) as { name: string }[];
    const all: { id: string; state: string }[] = [];
    for (const q of queues) {
      const res = await fetch(`${base}/api/queues/${encodeURIComponent(q.name)}`);
      if (res.ok) all.push(...((await res.json()) as { changes: { id: string; state: string }[] }).changes);
    }
    return all;
  }

  /** Polls `probe` every 100 ms until it is truthy (at most `tries` times: a hang guard). */
  async until<T>(probe: () => Promise<T | null | undefined | false>, tries = 1200): Promise<T> {
    for (let i = 0; i < tries; i++) {
      const value = await probe().catch(() => null);
      if (value) return value;
      await sleep(100);
    }
    throw new Error(
      `the replica bed gave up waiting; replicas said:\n${this.replicas.map((r) => r.output()).join('\n')}`,
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.replicas) {
      r.child.kill('SIGCONT');
      r.child.kill('SIGTERM');
    }
    await Promise.all(this.replicas.map((r) => r.exited));
    this.senders.destroy();
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  }
}
