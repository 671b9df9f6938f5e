// The Gerrit host: ref-updated and change-merged say that a branch moved, and what it landed is
// queued (handlers/branch-update.ts); comment-added carries slash commands (handlers/comment.ts).
// Events arrive at POST /gerrit/events (intake.ts, through the durable inbox) or over SSH
// (stream.ts). Config loading and the command loop are the ones every host shares (hosts/common).
import type { Mount } from '../../http/mount.ts';
import { commonDeps, type HostDeps } from '../common/host-deps.ts';
import type { GerritClient } from './client.ts';
import { BranchUpdates } from './handlers/branch-update.ts';
import { Comments } from './handlers/comment.ts';
import { GerritInbox } from './inbox.ts';
import { EVENTS_PATH, receiveEvent } from './intake.ts';
import { HOST, type GerritProjects } from './project.ts';
import type { GerritEvent } from './types.ts';

export { EVENTS_PATH } from './intake.ts';
export { PUSH_LIMIT } from './handlers/branch-update.ts';

export interface GerritHostOptions extends HostDeps {
  client: GerritClient;
  eventsToken?: string | undefined;
  /** The service user's name: its own messages are not commands. */
  serviceUser?: string | undefined;
  /** Where /gerrit/events keeps events until handled (inbox.ts); without it they are handled before the answer. */
  inboxDir?: string;
}

export class GerritHost {
  private readonly projects: GerritProjects;
  private readonly updates: BranchUpdates;
  private readonly comments: Comments;
  private readonly inbox: GerritInbox | null;
  /** POST /gerrit/events, for the server to mount. */
  readonly mount: Mount;

  constructor(private readonly opts: GerritHostOptions) {
    const common = commonDeps(opts);
    this.projects = { client: opts.client, common, unconfigured: new Set() };
    this.updates = new BranchUpdates(this.projects);
    this.comments = new Comments(this.projects, opts.serviceUser);
    this.inbox = opts.inboxDir
      ? new GerritInbox({ dir: opts.inboxDir, handle: (e) => this.handle(e), log: common.log })
      : null;
    const intake = {
      token: opts.eventsToken,
      inbox: this.inbox,
      handle: (e: GerritEvent) => this.handle(e),
      log: common.log,
    };
    this.mount = { path: EVENTS_PATH, source: HOST, handle: (req, res) => receiveEvent(req, res, intake) };
  }

  get client(): GerritClient {
    return this.opts.client;
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

  /** Handles one event; unknown types and dropped-output are logged at debug level and ignored. */
  async handle(event: GerritEvent): Promise<void> {
    switch (event.type) {
      case 'ref-updated':
        return this.updates.refUpdated(event);
      case 'change-merged':
        return this.updates.merged(event);
      case 'comment-added':
        return this.comments.handle(event);
      case 'hashtags-changed':
        return this.comments.hashtagsChanged(event);
      default:
        this.projects.common.log.debug({ type: event.type }, `Gerrit event ${event.type} ignored`);
    }
  }
}
