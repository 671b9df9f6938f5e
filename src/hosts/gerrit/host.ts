// The Gerrit host: change-merged and ref-updated give changes and their order, comment-added carries
// slash commands; events arrive at POST /gerrit/events (webhooks plugin) with a token.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeInput } from '../../core/index.ts';
import { ConfigError } from '../../config/errors.ts';
import { ciTarget, parseRepoConfig, REPO_CONFIG_FILE, type RepoConfig } from '../../config/repo.ts';
import { helpText, parseCommands, VERBS, type Verb } from '../../commands/parse.ts';
import type { Engine } from '../../engine/engine.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { HttpError, readBody, sendJson } from '../../http/body.ts';
import { secretEquals } from '../../http/signature.ts';
import { dependsOnFooters, revertedShas } from '../git/footers.ts';
import { dependencyId } from '../github/ids.ts';
import { accountName, type GerritClient } from './client.ts';
import { branchOf, changeNumber, commentBody, gerritChangeId, parseEvent } from './events.ts';
import { TAG } from './messages.ts';
import type { GerritEvent } from './types.ts';

export const EVENTS_PATH = '/gerrit/events';
const CONFIG_FILE = REPO_CONFIG_FILE;
const EVENTS_LIMIT = 1024 * 1024;

export interface GerritHostOptions {
  client: GerritClient;
  engine: Engine;
  log?: Logger;
  now?: () => number;
  eventsToken?: string | undefined;
  /** The service user's name: its own messages are not commands. */
  serviceUser?: string | undefined;
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

  constructor(private readonly opts: GerritHostOptions) {
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  get client(): GerritClient {
    return this.opts.client;
  }

  /** Handles one event; unknown types and dropped-output are logged at debug level and ignored. */
  async handle(event: GerritEvent, delivery?: string): Promise<void> {
    switch (event.type) {
      case 'ref-updated': {
        const r = event.refUpdate;
        if (r?.newRev && r.oldRev && r.project && branchOf(r.refName))
          this.refs.set(`${r.project}:${branchOf(r.refName)}:${r.newRev}`, r.oldRev);
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

  private queueFor(project: string, branch: string, config: RepoConfig | null): string {
    return config?.queue ?? `gerrit:${this.client.host}/${project}@${branch}`;
  }

  /** The config at the branch tip; invalid -> a review message on the change that merged it, and the last good one. */
  private async config(project: string, branch: string, number: number): Promise<RepoConfig | null> {
    const text = await this.client.branchFile(project, branch, CONFIG_FILE);
    const last = (await this.opts.engine.read(this.queueFor(project, branch, null)))?.repoConfig;
    if (text === null) return last ?? null;
    try {
      return parseRepoConfig(text, `${project}:${CONFIG_FILE} on ${branch}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.log.error({ project, problems: err.problems }, `${err.message}\nThe last good config stays in force.`);
      await this.opts.engine.addNotice(this.queueFor(project, branch, last ?? null), {
        at: this.now(),
        level: 'error',
        code: 'config-invalid',
        message: `${err.message}\nThe last good config stays in force.`,
      });
      await this.client
        .review(project, number, 'current', {
          message: `ost-gate: config error\n${err.message}\nThe last good config stays in force; no queued change is dropped.`,
          tag: TAG,
          notify: 'OWNER',
        })
        .catch((e) => this.log.warn({ err: (e as Error).message }, 'could not post the config error'));
      return last ?? null;
    }
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
    const config = await this.config(c.project, branch, number);
    if (!config) {
      if (!this.unconfigured.has(c.project))
        this.log.info({ project: c.project }, `${c.project} has no ${CONFIG_FILE} on ${branch}; not gated`);
      this.unconfigured.add(c.project);
      return;
    }
    if (!config.branches.includes(branch)) return;
    const message = c.commitMessage ?? '';
    const deps = await Promise.all(dependsOnFooters(message).map((d) => this.resolveDependency(d, c.project)));
    const reverts = revertedShas(message);
    const change: ChangeInput = {
      id: gerritChangeId(this.client.host, c.project, number),
      sha,
      parent: e.patchSet?.parents?.[0] ?? null,
      number,
      title: c.subject ?? '',
      url: c.url ?? `${this.client.base}/c/${c.project}/+/${number}`,
      author: accountName(c.owner),
      ...(deps.length ? { dependsOn: deps } : {}),
      ...(reverts.length ? { reverts } : {}),
    };
    const queue = this.queueFor(c.project, branch, config);
    await this.opts.engine.configure(queue, config, ciTarget(config), this.now());
    const before = this.refs.get(`${c.project}:${branch}:${sha}`) ?? null;
    await this.opts.engine.submit(
      queue,
      {
        type: 'merged',
        at: this.now(),
        stream: { host: 'gerrit', project: c.project, branch },
        before,
        after: sha,
        changes: [change],
      },
      { delivery: delivery ?? `gerrit:merged:${c.project}:${number}:${sha}` },
    );
  }

  private async comment(e: GerritEvent): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    if (!c || !number || !e.author) return;
    const user = accountName(e.author);
    if (this.opts.serviceUser && user === this.opts.serviceUser) return;
    const commands = parseCommands(commentBody(e.comment));
    if (commands.length === 0) return;
    const id = gerritChangeId(this.client.host, c.project, number);
    const replyTo: GerritReplyTarget = { project: c.project, number };
    const reply = (message: string) =>
      this.client.review(c.project, number, 'current', { message, tag: TAG, notify: 'NONE' });
    const hit = await this.opts.engine.findChange(id);
    const found = hit ? { queue: hit.queue, repoConfig: hit.file.repoConfig } : null;
    const branch = branchOf(c.branch) ?? c.branch;
    const config = found?.repoConfig ?? (await this.config(c.project, branch, number));
    for (const cmd of commands) {
      if (cmd.verb === null) {
        await reply(helpText(`"/ost ${cmd.unknown}" is not a command.\n\n`));
        continue;
      }
      if (cmd.verb === 'help') {
        await reply(helpText());
        continue;
      }
      const level = VERBS[cmd.verb].level;
      if (level !== 'anyone') {
        const allowed = await this.allowed(cmd.verb, user, c.owner ? accountName(c.owner) : undefined, config);
        if (!allowed.ok) {
          await reply(`ost-gate: /ost ${cmd.verb} needs ${allowed.needs}; ${user} is not. Nothing was changed.`);
          continue;
        }
      }
      if (cmd.verb === 'status') {
        const file = found?.queue ? await this.opts.engine.read(found.queue) : null;
        const st = file?.state.changes[id];
        await reply(
          st
            ? `ost-gate: ${id} is ${st.verdict ?? st.state} in queue ${found!.queue}.`
            : `ost-gate: ${id} is not in any queue.`,
        );
        continue;
      }
      if (!found && cmd.verb === 'enqueue') {
        await this.enqueueMissed(c.project, number, id, user, replyTo, config, reply);
        continue;
      }
      if (!found) {
        await reply(`ost-gate: ${id} is not in any queue, so there is nothing to ${cmd.verb}.`);
        continue;
      }
      await this.opts.engine.submit(found.queue, {
        type: 'command',
        at: this.now(),
        verb: cmd.verb as Exclude<Verb, 'help' | 'status'>,
        change: id,
        user,
        replyTo,
      });
    }
  }

  /** `/ost enqueue` for a merged change whose change-merged event was missed: read it from REST. */
  private async enqueueMissed(
    project: string,
    number: number,
    id: string,
    user: string,
    replyTo: GerritReplyTarget,
    config: RepoConfig | null,
    reply: (m: string) => Promise<unknown>,
  ): Promise<void> {
    const info = await this.client.change(project, number);
    if (info.status !== 'MERGED' || !info.current_revision) {
      await reply(`ost-gate: change ${number} is ${info.status.toLowerCase()}; ost-gate tests merged changes only.`);
      return;
    }
    if (!config) {
      await reply(`ost-gate: ${project} has no ${CONFIG_FILE} on ${info.branch}; it is not gated.`);
      return;
    }
    const queue = this.queueFor(project, info.branch, config);
    const change: ChangeInput = {
      id,
      sha: info.current_revision,
      number,
      title: info.subject,
      url: `${this.client.base}/c/${project}/+/${number}`,
      author: accountName(info.owner),
    };
    await this.opts.engine.submit(queue, {
      type: 'command',
      at: this.now(),
      verb: 'enqueue',
      change: id,
      user,
      replyTo,
      input: { stream: { host: 'gerrit', project, branch: info.branch }, change },
    });
  }

  /** Write and admin verbs: a member of a `commands.permission` group; `retry` also the change owner. */
  private async allowed(
    verb: Verb,
    user: string,
    owner: string | undefined,
    config: RepoConfig | null,
  ): Promise<{ ok: boolean; needs: string }> {
    const wanted = config?.commands.permission;
    const groups = Array.isArray(wanted) ? wanted : ['Administrators'];
    const needs = `membership in ${groups.join(' or ')}${verb === 'retry' ? ', or owning the change' : ''}`;
    if (verb === 'retry' && owner && owner === user) return { ok: true, needs };
    try {
      const mine = await this.client.groups(user);
      return { ok: mine.some((g) => groups.includes(g.name)), needs };
    } catch (err) {
      this.log.warn({ user, err: (err as Error).message }, 'could not read the groups of a user; refusing the command');
      return { ok: false, needs };
    }
  }

  /** POST /gerrit/events: the webhooks plugin's JSON, authorised by GERRIT_EVENTS_TOKEN (?token= or Bearer). */
  mount = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== EVENTS_PATH) return false;
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const expected = this.opts.eventsToken;
    if (!expected) throw new HttpError(503, 'Gerrit events are disabled: set GERRIT_EVENTS_TOKEN on the server');
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!secretEquals(expected, url.searchParams.get('token') ?? bearer)) {
      this.log.warn({ remote: req.socket.remoteAddress }, 'Gerrit event without a valid token rejected');
      throw new HttpError(401, 'missing or bad token: pass GERRIT_EVENTS_TOKEN as ?token= or as a Bearer token');
    }
    const body = await readBody(req, EVENTS_LIMIT);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not JSON: expected a Gerrit event like the webhooks plugin sends');
    }
    const event = parseEvent(json);
    if (!event) throw new HttpError(400, 'not a Gerrit event: a JSON object with a "type" is expected');
    await this.handle(event);
    sendJson(res, 202, { accepted: true, type: event.type });
    return true;
  };
}
