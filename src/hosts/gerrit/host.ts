// The Gerrit host: ref-updated and change-merged say that a branch moved, and the branch's
// first-parent commits since (landing.ts) are what gets queued, each as the change that carries it
// or as a direct push; comment-added carries slash commands. Events arrive at POST /gerrit/events
// (webhooks plugin) with a token, or over SSH (stream.ts). Config loading and the command loop are
// the ones every host shares (hosts/common).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { streamId, type ChangeInput, type StreamRef } from '../../core/index.ts';
import type { ConfigError } from '../../config/errors.ts';
import { parseRepoConfig, REPO_CONFIG_FILE, type SharedQueue } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import { HttpError, parseJsonBody, readBody, sendJson } from '../../http/body.ts';
import type { Mount } from '../../http/mount.ts';
import { secretEquals } from '../../http/signature.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { toText } from '../../report/text.ts';
import { missedChange, runCommands, type CommandPort, type HostChange } from '../common/commands.ts';
import { loadRepoConfig, type Placement, type RepoOwner } from '../common/repo-config.ts';
import { accountName, type GerritClient } from './client.ts';
import { GerritPermissions } from './permissions.ts';
import { landedChanges, type LandedChangeDeps } from './landed-changes.ts';
import { isNullSha, LandingReader, type Landing } from './landing.ts';
import { branchOf, changeNumber, checkEvent, commentBody, eventIdentity, gerritChangeId } from './events.ts';
import { GerritInbox } from './inbox.ts';
import { BoundedMap, BoundedSet } from '../../util/bounded.ts';
import { TAG } from './reporter.ts';
import type { GerritEvent } from './types.ts';

export const EVENTS_PATH = '/gerrit/events';
const EVENTS_LIMIT = 1024 * 1024;
const HOST = 'gerrit';
/** How many comment identities are remembered to drop a redelivered comment. */
const RECENT_COMMENTS = 5000;
/** Branch updates remembered (old tips, updates queued). */
const OLD_TIPS_KEPT = 5000;
/** First-parent commits of one branch update queued one by one; older ones are queued as one change. */
export const PUSH_LIMIT = 100;

export interface GerritHostOptions {
  client: GerritClient;
  engine: Engine;
  log?: Logger;
  now?: () => number;
  eventsToken?: string | undefined;
  /** The service user's name: its own messages are not commands. */
  serviceUser?: string | undefined;
  publicUrl?: string | undefined;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>>;
  /** The CI providers the server has, to refuse a config naming another. */
  providers?: () => readonly string[];
  /** Where /gerrit/events keeps events until handled (inbox.ts); without it they are handled before the answer. */
  inboxDir?: string;
}

export interface GerritReplyTarget {
  project: string;
  number: number;
}

export class GerritHost {
  private readonly log: Logger;
  private readonly now: () => number;
  /** `<project>:<branch>:<newRev>` -> oldRev of ref-updated events, for the change-merged events that follow. */
  private readonly oldTips = new BoundedMap<string, string>(OLD_TIPS_KEPT);
  /** `<project>:<branch>:<tip>` of the branch updates whose commits are queued. */
  private readonly landed = new BoundedSet<string>(OLD_TIPS_KEPT);
  private readonly landings: LandingReader;
  private readonly permissions: GerritPermissions;
  private readonly changeDeps: LandedChangeDeps;
  private readonly unconfigured = new Set<string>();
  /** Identities of the comment-added events handled lately, oldest first (bounded). */
  private readonly recentComments = new BoundedSet<string>(RECENT_COMMENTS);
  /** POST /gerrit/events, for the server to mount. */
  readonly mount: Mount = { path: EVENTS_PATH, source: HOST, handle: (req, res) => this.receive(req, res) };

  private readonly inbox: GerritInbox | null;

  constructor(private readonly opts: GerritHostOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.landings = new LandingReader(opts.client, this.log);
    this.permissions = new GerritPermissions(opts.client, opts.serviceUser, this.log);
    this.changeDeps = { client: opts.client, log: this.log, pushLimit: PUSH_LIMIT };
    this.inbox = opts.inboxDir
      ? new GerritInbox({ dir: opts.inboxDir, handle: (e) => this.handle(e), log: this.log })
      : null;
  }

  /** Handles the events a previous process accepted but had not handled yet. */
  async start(): Promise<void> {
    await this.inbox?.start();
  }

  /** Resolves when every accepted event is handled and its effects are done. */
  async idle(): Promise<void> {
    await this.inbox?.idle();
    await this.opts.engine.idle();
  }

  get client(): GerritClient {
    return this.opts.client;
  }

  private get common() {
    const { engine, publicUrl, sharedQueues = {}, providers } = this.opts;
    return { engine, log: this.log, now: this.now, publicUrl, sharedQueues, providers };
  }

  /** A project's namespace is its Gerrit host: it may name queues `gerrit:<host>/...` and join declared ones. */
  private ownerOf(project: string): RepoOwner {
    return { namespace: `${HOST}:${this.client.host}/`, member: `${HOST}:${this.client.host}/${project}` };
  }

  /** Handles one event; unknown types and dropped-output are logged at debug level and ignored. */
  async handle(event: GerritEvent): Promise<void> {
    switch (event.type) {
      case 'ref-updated':
        return this.refUpdated(event);
      case 'change-merged':
        return this.merged(event);
      case 'comment-added':
        return this.comment(event);
      default:
        this.log.debug({ type: event.type }, `Gerrit event ${event.type} ignored`);
    }
  }

  /**
   * A branch moved: a submit (its change-merged events follow), a push past review, or a force-push.
   * Other refs (patch sets, tags, meta refs) are not branches and are ignored.
   */
  private async refUpdated(e: GerritEvent): Promise<void> {
    const r = e.refUpdate;
    const branch = branchOf(r?.refName);
    if (!r?.project || !branch || !r.newRev) return;
    if (isNullSha(r.newRev)) {
      this.log.info({ project: r.project, branch }, `branch ${branch} of ${r.project} was deleted`);
      return;
    }
    if (!r.oldRev || isNullSha(r.oldRev)) {
      this.log.info(
        { project: r.project, branch, tip: r.newRev },
        `branch ${branch} of ${r.project} was created; changes are queued from its next update`,
      );
      return;
    }
    this.oldTips.set(`${r.project}:${branch}:${r.newRev}`, r.oldRev);
    await this.land(r.project, branch, { to: r.newRev, from: r.oldRev, number: null });
  }

  /** A change merged: the commits its submission landed are queued (usually its ref-updated did already). */
  private async merged(e: GerritEvent): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    const branch = branchOf(c?.branch) ?? c?.branch ?? null;
    const to = e.newRev ?? e.patchSet?.revision;
    if (!c || !number || !branch || !to) {
      this.log.warn({ event: e.type }, 'change-merged without a change number, branch or revision ignored');
      return;
    }
    const from = this.oldTips.get(`${c.project}:${branch}:${to}`) ?? null;
    await this.land(c.project, branch, { to, from, number });
  }

  /**
   * Queues what a move of `branch` to `to` landed, once per new tip: its first-parent commits from
   * `from` (the old tip; without it, the queue's last sha, else the submission of change `number`).
   */
  private async land(
    project: string,
    branch: string,
    move: { to: string; from: string | null; number: number | null },
  ) {
    const key = `${project}:${branch}:${move.to}`;
    if (this.landed.has(key)) {
      this.log.debug({ project, branch, tip: move.to }, 'what this branch update landed is queued already');
      return;
    }
    // a bad config is told on the newest change that landed with it, once that is known
    const complaint: { text?: string } = {};
    const placement = await this.placement(project, branch, async (text) => void (complaint.text = text));
    if (!placement) return this.notGated(project, branch);
    const stream = { host: HOST, project, branch };
    const known = await this.streamShas(placement.queue, stream);
    if (known.shas.includes(move.to)) {
      this.log.debug({ project, branch, tip: move.to }, 'the queue has this branch update already');
      return;
    }
    const from = move.from ?? known.tip;
    const submission = from === null && move.number ? await this.client.change(project, move.number) : undefined;
    if (from === null && !submission) return;
    const landing = await this.landings.read({ project, branch, to: move.to, from, submission, limit: PUSH_LIMIT });
    const changes = await landedChanges(this.changeDeps, project, placement.config, landing);
    if (landing.cut) await this.tellCut(placement.queue, project, branch, landing);
    const reviewed = move.number ?? [...changes].reverse().find((c) => c.number)?.number;
    if (complaint.text && reviewed)
      await this.configError(project, reviewed, complaint.text).catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'could not post the config error on the code host'),
      );
    if (changes.length === 0) return;
    await this.opts.engine.submit(placement.queue, {
      type: 'merged',
      at: this.now(),
      stream,
      before: landing.cut ? null : landing.base,
      after: move.to,
      ...(landing.rewritten ? { forced: true } : {}),
      changes,
    });
    this.landed.add(key);
  }

  /** The newest sha the queue has of this stream (null for a stream it has not seen), and the shas it knows. */
  private async streamShas(queue: string, stream: StreamRef): Promise<{ tip: string | null; shas: string[] }> {
    const file = await this.opts.engine.reads.queue(queue);
    const known = file?.state.streams[streamId(stream)];
    return { tip: known?.tip ?? null, shas: known?.shas ?? [] };
  }

  /** A push longer than PUSH_LIMIT: its older commits are queued as one change, and the queue says so. */
  private async tellCut(queue: string, project: string, branch: string, landing: Landing): Promise<void> {
    const message =
      `a push to ${branch} of ${project} landed more than ${PUSH_LIMIT} commits: the newest ${PUSH_LIMIT} are ` +
      `queued one by one, the ones before them as one change ending at ${landing.base?.slice(0, 10)}`;
    this.log.warn({ project, branch }, message);
    await this.opts.engine.addNotice(queue, { at: this.now(), level: 'warn', code: 'push-cut', message });
  }

  /** The queue of a project's branch when its config names no shared queue: one per stream. */
  private streamQueue(project: string, branch: string): string {
    return streamId({ host: HOST, project: `${this.client.host}/${project}`, branch });
  }

  /**
   * The config at the branch tip and its queue; a bad one gets a review message on the change that
   * merged it (a push past review has none: the log and the queue's notice say it).
   */
  private placement(
    project: string,
    branch: string,
    announce: (text: string) => Promise<void>,
  ): Promise<Placement | null> {
    const source = `${project}:${REPO_CONFIG_FILE} on ${branch}`;
    return loadRepoConfig(this.common, {
      branch,
      owner: this.ownerOf(project),
      source,
      read: async () => {
        const text = await this.client.branchFile(project, branch, REPO_CONFIG_FILE);
        return text === null ? null : parseRepoConfig(text, source);
      },
      defaultQueue: this.streamQueue(project, branch),
      stream: streamId({ host: HOST, project, branch }),
      context: { project },
      announce: (_err: ConfigError, text: string) => announce(text),
    });
  }

  /** Tells the people of change `number` that the config it brought is not valid. */
  private async configError(project: string, number: number, text: string): Promise<void> {
    await this.client.review(project, number, 'current', {
      message: `ost-gate: config error\n${text}`,
      tag: TAG,
      notify: 'OWNER',
    });
  }

  private notGated(project: string, branch: string): void {
    if (!this.unconfigured.has(project))
      this.log.info({ project }, `${project} has no ${REPO_CONFIG_FILE} on ${branch}; not gated`);
    this.unconfigured.add(project);
  }

  private async comment(e: GerritEvent): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    if (!c || !number || !e.author) return;
    const user = accountName(e.author);
    if (this.opts.serviceUser && user === this.opts.serviceUser) return;
    // The same comment delivered again (a webhook retry, or the events-log catch-up replaying what
    // the stream saw) runs its commands once: by its identity, here and durably in the engine.
    const identity = `gerrit:${eventIdentity(e)}`;
    if (this.recentComments.has(identity)) {
      this.log.info({ project: c.project, number, user }, 'comment-added delivered again; its commands already ran');
      return;
    }
    this.recentComments.add(identity);
    const branch = branchOf(c.branch) ?? c.branch;
    const owner = c.owner ? accountName(c.owner) : undefined;
    await runCommands(this.common, this.commandPort(c.project, branch, number, owner), {
      body: commentBody(e.comment),
      user,
      change: gerritChangeId(this.client.host, c.project, number),
      replyTo: { project: c.project, number } satisfies GerritReplyTarget,
      delivery: identity,
    });
  }

  /** The command loop's port on a change: replies as review messages, permission from Gerrit groups. */
  private commandPort(project: string, branch: string, number: number, owner: string | undefined): CommandPort {
    return {
      render: toText,
      mention: (user) => `${user}: `,
      reply: (message) => this.client.review(project, number, 'current', { message, tag: TAG, notify: 'NONE' }),
      config: () => this.placement(project, branch, (text) => this.configError(project, number, text)),
      permission: (verb, user, config) => this.permissions.allowed(verb, user, owner, config),
      missedChange: (placement) =>
        missedChange(() => this.hostChange(project, number), placement, {
          repository: project,
          configFile: REPO_CONFIG_FILE,
          label: `change ${number}`,
        }),
    };
  }

  /** A change a comment is on, as the REST API has it: merged (with its commit), or in what state. */
  private async hostChange(project: string, number: number): Promise<HostChange> {
    const info = await this.client.change(project, number);
    if (info.status !== 'MERGED' || !info.current_revision)
      return { merged: false, label: `change ${number}`, state: info.status.toLowerCase() };
    const change: ChangeInput = {
      id: gerritChangeId(this.client.host, project, number),
      sha: info.current_revision,
      number,
      title: info.subject,
      url: `${this.client.base}/c/${project}/+/${number}`,
      author: accountName(info.owner),
    };
    return { merged: true, stream: { host: HOST, project, branch: info.branch }, change };
  }

  /** POST /gerrit/events: the webhooks plugin's JSON, authorised by GERRIT_EVENTS_TOKEN (?token= or Bearer). */
  private async receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const expected = this.opts.eventsToken;
    if (!expected) throw new HttpError(503, 'Gerrit events are disabled: set GERRIT_EVENTS_TOKEN on the server');
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!secretEquals(expected, url.searchParams.get('token') ?? bearer)) {
      this.log.warn({ remote: req.socket.remoteAddress }, 'Gerrit event without a valid token rejected');
      throw new HttpError(401, 'missing or bad token: pass GERRIT_EVENTS_TOKEN as ?token= or as a Bearer token');
    }
    const body = await readBody(req, EVENTS_LIMIT);
    const checked = checkEvent(parseJsonBody(body, 'a Gerrit event like the webhooks plugin sends'));
    if ('problem' in checked) {
      this.log.warn({ problem: checked.problem }, 'malformed Gerrit event refused');
      throw new HttpError(400, `not a Gerrit event ost-gate can read: ${checked.problem}`);
    }
    const { event } = checked;
    if (!this.inbox) {
      await this.handle(event);
      return sendJson(res, 202, { accepted: true, type: event.type });
    }
    // answered once on disk: the webhooks plugin waits 5 s at most, and handling may take longer
    const fresh = await this.inbox.accept(event);
    sendJson(res, 202, { accepted: true, type: event.type, ...(fresh ? {} : { duplicate: true }) });
  }
}
