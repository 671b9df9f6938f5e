// comment-added: `/ost` commands in review messages, through the command loop every host shares;
// replies are review messages, and permission comes from Gerrit groups (permissions.ts). A comment
// delivered again runs its commands once.
import type { ChangeInput } from '../../../core/index.ts';
import { REPO_CONFIG_FILE } from '../../../config/repo.ts';
import { toText } from '../../../report/text.ts';
import { BoundedSet } from '../../../util/bounded.ts';
import {
  missedChange,
  runCommands,
  type CommandPort,
  type HostChange,
  type OpenChange,
} from '../../common/commands.ts';
import { accountName } from '../client.ts';
import { branchOf, changeNumber, commentBody, eventIdentity, gerritChangeId, TAG } from '../events.ts';
import { GerritPermissions } from '../permissions.ts';
import { PRIORITY_MARK } from '../../common/priority.ts';
import { configError, HOST, placement, type GerritProjects } from '../project.ts';
import type { GerritEvent, GerritReplyTarget } from '../types.ts';

/** How many comment identities are remembered to drop a redelivered comment. */
const RECENT_COMMENTS = 5000;

/** The change a comment is on. */
interface OnChange {
  project: string;
  branch: string;
  number: number;
  owner: string | undefined;
}

export class Comments {
  /** Identities of the comment-added events handled lately (bounded). */
  private readonly recent = new BoundedSet<string>(RECENT_COMMENTS);
  private readonly permissions: GerritPermissions;

  constructor(
    private readonly projects: GerritProjects,
    private readonly serviceUser: string | undefined,
  ) {
    this.permissions = new GerritPermissions(projects.client, serviceUser, projects.common.log);
  }

  /**
   * hashtags-changed adding `ost-priority` to a merged change: the same as `/ost priority` from whoever
   * added it (a hashtag set before the merge is read with the landing instead).
   */
  async hashtagsChanged(e: GerritEvent): Promise<void> {
    if (!e.added?.includes(PRIORITY_MARK) || e.change?.status !== 'MERGED' || !e.editor) return;
    await this.handle({ ...e, type: 'comment-added', author: e.editor, comment: '/ost priority' });
  }

  async handle(e: GerritEvent): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    if (!c || !number || !e.author) return;
    const user = accountName(e.author);
    if (this.serviceUser && user === this.serviceUser) return;
    // The same comment delivered again (a webhook retry, or the events-log catch-up replaying what
    // the stream saw) runs its commands once: by its identity, here and durably in the engine.
    const identity = `gerrit:${eventIdentity(e)}`;
    if (this.recent.has(identity)) {
      this.projects.common.log.info(
        { project: c.project, number, user },
        'comment-added delivered again; its commands already ran',
      );
      return;
    }
    this.recent.add(identity);
    const on: OnChange = {
      project: c.project,
      branch: branchOf(c.branch) ?? c.branch,
      number,
      owner: c.owner ? accountName(c.owner) : undefined,
    };
    await runCommands(this.projects.common, this.port(on), {
      body: commentBody(e.comment),
      user,
      change: gerritChangeId(this.projects.client.host, c.project, number),
      replyTo: { project: c.project, number } satisfies GerritReplyTarget,
      delivery: identity,
    });
  }

  /** The command loop's port on a change: replies as review messages, permission from Gerrit groups. */
  private port(on: OnChange): CommandPort {
    const { client } = this.projects;
    const { project, branch, number, owner } = on;
    return {
      render: toText,
      mention: (user) => `${user}: `,
      reply: (message) => client.review(project, number, 'current', { message, tag: TAG, notify: 'NONE' }),
      config: () =>
        placement(this.projects, { project, branch }, (text) => configError(this.projects, { project, number }, text)),
      permission: (verb, user, config) => this.permissions.allowed(verb, user, owner, config),
      missedChange: (placed) =>
        missedChange(() => this.hostChange(project, number), placed, {
          repository: project,
          configFile: REPO_CONFIG_FILE,
          label: `change ${number}`,
        }),
      openChange: (user) => this.openChange(project, number, user),
    };
  }

  /** An open change for `/ost try`: its current patch set, or why it cannot be tried. */
  private async openChange(project: string, number: number, user: string): Promise<OpenChange | { refusal: string }> {
    const { client } = this.projects;
    const info = await client.change(project, number);
    const sha = info.current_revision;
    if (info.status !== 'NEW' || !sha)
      return { refusal: `change ${number} is ${info.status.toLowerCase()}; only an open change can be tried.` };
    const branch = branchOf(info.branch) ?? info.branch;
    return {
      change: gerritChangeId(client.host, project, number),
      host: HOST,
      project,
      branch,
      sha,
      ref: info.revisions?.[sha]?.ref ?? null,
      number,
      title: info.subject,
      url: client.changeUrl(project, number),
      by: user,
    };
  }

  /** A change a comment is on, as the REST API has it: merged (with its commit), or in what state. */
  private async hostChange(project: string, number: number): Promise<HostChange> {
    const { client } = this.projects;
    const info = await client.change(project, number);
    if (info.status !== 'MERGED' || !info.current_revision)
      return { merged: false, label: `change ${number}`, state: info.status.toLowerCase() };
    const change: ChangeInput = {
      id: gerritChangeId(client.host, project, number),
      sha: info.current_revision,
      number,
      title: info.subject,
      url: client.changeUrl(project, number),
      author: accountName(info.owner),
    };
    return { merged: true, stream: { host: HOST, project, branch: info.branch }, change };
  }
}
