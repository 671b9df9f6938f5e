// The Gerrit host: change-merged and ref-updated give changes and their order, comment-added carries
// slash commands; events arrive at POST /gerrit/events (webhooks plugin) with a token, or over SSH
// (stream.ts). Config loading and the command loop are the ones every host shares (hosts/common).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { streamId, type ChangeInput } from '../../core/index.ts';
import type { ConfigError } from '../../config/errors.ts';
import { parseRepoConfig, REPO_CONFIG_FILE, type RepoConfig, type SharedQueue } from '../../config/repo.ts';
import type { Verb } from '../../commands/parse.ts';
import type { Engine } from '../../engine/engine.ts';
import { HttpError, parseJsonBody, readBody, sendJson } from '../../http/body.ts';
import type { Mount } from '../../http/mount.ts';
import { secretEquals } from '../../http/signature.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { toText } from '../../report/text.ts';
import { changeInput } from '../common/change-input.ts';
import { runCommands, type CommandPort, type MissedChange } from '../common/commands.ts';
import { dependencyId, revertedShas } from '../common/footers.ts';
import { loadRepoConfig, type Placement, type RepoOwner } from '../common/repo-config.ts';
import { accountName, type GerritClient } from './client.ts';
import { branchOf, changeNumber, checkEvent, commentBody, eventIdentity, gerritChangeId } from './events.ts';
import { GerritInbox } from './inbox.ts';
import { TAG } from './reporter.ts';
import type { GerritAccount, GerritEvent } from './types.ts';

export const EVENTS_PATH = '/gerrit/events';
const EVENTS_LIMIT = 1024 * 1024;
const HOST = 'gerrit';
/** How many comment identities are remembered to drop a redelivered comment. */
const RECENT_COMMENTS = 5000;

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
  /** newRev -> oldRev of ref-updated events, to order change-merged events that follow them. */
  private readonly refs = new Map<string, string>();
  private readonly unconfigured = new Set<string>();
  /** Identities of the comment-added events handled lately, oldest first (bounded). */
  private readonly recentComments = new Set<string>();
  /** POST /gerrit/events, for the server to mount. */
  readonly mount: Mount = { path: EVENTS_PATH, source: HOST, handle: (req, res) => this.receive(req, res) };

  private readonly inbox: GerritInbox | null;

  constructor(private readonly opts: GerritHostOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
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
    const { engine, publicUrl, sharedQueues = {} } = this.opts;
    return { engine, log: this.log, now: this.now, publicUrl, sharedQueues };
  }

  /** A project's namespace is its Gerrit host: it may name queues `gerrit:<host>/...` and join declared ones. */
  private ownerOf(project: string): RepoOwner {
    return { namespace: `${HOST}:${this.client.host}/`, member: `${HOST}:${this.client.host}/${project}` };
  }

  /** Handles one event; unknown types and dropped-output are logged at debug level and ignored. */
  async handle(event: GerritEvent, delivery?: string): Promise<void> {
    switch (event.type) {
      case 'ref-updated': {
        const r = event.refUpdate;
        const branch = branchOf(r?.refName);
        if (r?.newRev && r.oldRev && r.project && branch) this.refs.set(`${r.project}:${branch}:${r.newRev}`, r.oldRev);
        if (this.refs.size > 5000) this.refs.delete(this.refs.keys().next().value!);
        return;
      }
      case 'change-merged':
        return this.merged(event, delivery);
      case 'comment-added':
        return this.comment(event);
      default:
        this.log.debug({ type: event.type }, `Gerrit event ${event.type} ignored`);
    }
  }

  /** The queue of a project's branch when its config names no shared queue: one per stream. */
  private streamQueue(project: string, branch: string): string {
    return streamId({ host: HOST, project: `${this.client.host}/${project}`, branch });
  }

  /** The config at the branch tip and its queue; a bad one gets a review message on the change that merged it. */
  private placement(project: string, branch: string, number: number): Promise<Placement | null> {
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
      announce: (_err: ConfigError, text: string) =>
        this.client.review(project, number, 'current', {
          message: `ost-gate: config error\n${text}`,
          tag: TAG,
          notify: 'OWNER',
        }),
    });
  }

  private async resolveDependency(value: string, project: string): Promise<string> {
    if (/^I[0-9a-f]{40}$/.test(value)) {
      try {
        const found = await this.client.byChangeId(value);
        const pick = found.find((c) => c.project === project) ?? found[0];
        if (pick) return gerritChangeId(this.client.host, pick.project, pick._number);
      } catch (err) {
        this.log.warn({ changeId: value, err: (err as Error).message }, 'could not resolve a Depends-On Change-Id');
      }
      return value;
    }
    return dependencyId(value, project);
  }

  private async merged(e: GerritEvent, delivery?: string): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    const branch = branchOf(c?.branch) ?? c?.branch ?? null;
    if (!c || !number || !branch) {
      this.log.warn({ event: e.type }, 'change-merged without a change number or branch ignored');
      return;
    }
    const sha = e.newRev ?? e.patchSet?.revision;
    if (!sha) {
      this.log.warn({ project: c.project, number }, 'change-merged without newRev or revision ignored');
      return;
    }
    const placement = await this.placement(c.project, branch, number);
    if (!placement) return this.notGated(c.project, branch);
    const { queue, config } = placement;
    const message = c.commitMessage ?? '';
    const change = await changeInput(
      {
        id: gerritChangeId(this.client.host, c.project, number),
        sha,
        parent: e.patchSet?.parents?.[0] ?? null,
        number,
        title: c.subject ?? '',
        url: c.url ?? `${this.client.base}/c/${c.project}/+/${number}`,
        author: accountName(c.owner),
      },
      {
        text: message,
        dependencyId: (d) => this.resolveDependency(d, c.project),
        reverts: revertedShas(message),
        files: config.paths_ignore.length ? await this.client.files(c.project, number, sha) : null,
        pathsIgnore: config.paths_ignore,
      },
    );
    const before = this.refs.get(`${c.project}:${branch}:${sha}`) ?? null;
    await this.opts.engine.submit(
      queue,
      {
        type: 'merged',
        at: this.now(),
        stream: { host: HOST, project: c.project, branch },
        before,
        after: sha,
        changes: [change],
      },
      { delivery: delivery ?? `gerrit:merged:${c.project}:${number}:${sha}` },
    );
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
    if (this.recentComments.size > RECENT_COMMENTS)
      this.recentComments.delete(this.recentComments.values().next().value!);
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
      config: () => this.placement(project, branch, number),
      permission: (verb, user, config) => this.allowed(verb, user, owner, config),
      missedChange: (placement) => this.missedChange(project, number, placement),
    };
  }

  /** `/ost enqueue` for a merged change whose change-merged event was missed: read it from REST. */
  private async missedChange(
    project: string,
    number: number,
    placement: Placement | null,
  ): Promise<MissedChange | { refusal: string }> {
    const info = await this.client.change(project, number);
    if (info.status !== 'MERGED' || !info.current_revision)
      return { refusal: `change ${number} is ${info.status.toLowerCase()}; ost-gate tests merged changes only.` };
    if (!placement || !placement.config.branches.includes(info.branch))
      return {
        refusal: `${project} does not gate ${info.branch} (no ${REPO_CONFIG_FILE} there, or ${info.branch} is not in its branches).`,
      };
    const change: ChangeInput = {
      id: gerritChangeId(this.client.host, project, number),
      sha: info.current_revision,
      number,
      title: info.subject,
      url: `${this.client.base}/c/${project}/+/${number}`,
      author: accountName(info.owner),
    };
    return {
      queue: placement.queue,
      config: placement.config,
      stream: { host: HOST, project, branch: info.branch },
      change,
    };
  }

  /** Write and admin verbs: a member of a `commands.permission` group; `retry` also the change owner. */
  private async allowed(
    verb: Verb,
    user: string,
    owner: string | undefined,
    config: RepoConfig | null,
  ): Promise<{ ok: true } | { ok: false; needs: string }> {
    const wanted = config?.commands.permission;
    const groups = Array.isArray(wanted) ? wanted : ['Administrators'];
    const needs = `membership in ${groups.join(' or ')}${verb === 'retry' ? ', or owning the change' : ''}; ${user} is not`;
    if (verb === 'retry' && owner && owner === user) return { ok: true };
    const hidden: string[] = [];
    try {
      for (const group of groups) {
        const members = await this.client.groupMembers(group);
        if (members === null) hidden.push(group);
        else if (members.some((m) => isAccount(m, user))) return { ok: true };
      }
    } catch (err) {
      this.log.warn(
        { user, err: (err as Error).message },
        'could not read the members of a group; refusing the command',
      );
      return { ok: false, needs };
    }
    if (hidden.length === 0) return { ok: false, needs };
    const fix = `in Gerrit, tick "Make group visible to all registered users" on it, or make the service user a member of its owner group`;
    this.log.warn({ groups: hidden }, `the service user cannot see the members of ${hidden.join(', ')}; ${fix}`);
    return {
      ok: false,
      needs: `${needs} a member of a group ost-gate can see (it cannot see the members of ${hidden.join(', ')}: ${fix})`,
    };
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

/** Whether a group member is the commenter, named as accountName names them. */
function isAccount(member: GerritAccount, user: string): boolean {
  return (
    member.username === user || member.email === user || member.name === user || String(member._account_id) === user
  );
}
