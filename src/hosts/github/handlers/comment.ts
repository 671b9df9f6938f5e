// PR comments, reviews and review comments: `/ost` commands through the command loop every host
// shares; replies are PR comments, and permission is the commenter's permission on the repository.
// The `ost:priority` label on a merged pull request is `/ost priority` from whoever set it.
import type { Context } from 'probot';
import type { ChangeInput } from '../../../core/index.ts';
import { ConfigError } from '../../../config/errors.ts';
import type { RepoConfig } from '../../../config/repo.ts';
import { githubAllows, VERBS, type Verb } from '../../../commands/parse.ts';
import { toMarkdown } from '../../../report/markdown.ts';
import {
  missedChange,
  runCommands,
  type CommandPort,
  type HostChange,
  type OpenChange,
} from '../../common/commands.ts';
import { settlePlacement } from '../../common/repo-config.ts';
import { githubSettings } from '../config.ts';
import { prChangeId } from '../ids.ts';
import { PRIORITY_LABEL } from '../../common/priority.ts';
import {
  CONFIG_PATH,
  HOST,
  malformed,
  ownerAndName,
  placementOf,
  readConfig,
  streamQueue,
  type GithubApp,
  type PullRequest,
} from '../repository.ts';

type CommentEvent = 'issue_comment.created' | 'pull_request_review.submitted' | 'pull_request_review_comment.created';

interface CommentPayload {
  comment?: { body?: string | null };
  review?: { body?: string | null };
  issue?: { number: number; pull_request?: unknown };
  pull_request?: { number: number };
  sender?: { type?: string; login?: string };
  repository: { full_name: string };
}

export async function onComment(app: GithubApp, context: Context<CommentEvent>): Promise<void> {
  const payload = context.payload as CommentPayload;
  if (typeof payload?.repository?.full_name !== 'string') return malformed(app, context, 'repository missing');
  if (isBot(payload.sender)) return;
  const number = payload.pull_request?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined);
  if (!number) return;
  const repo = payload.repository.full_name;
  await runCommands(app.common, commandPort(app, context as Context, { repo, number }), {
    body: payload.comment?.body ?? payload.review?.body ?? '',
    user: payload.sender!.login!,
    change: prChangeId(repo, number),
    replyTo: { repo, number },
    delivery: `github:${context.id}`,
  });
}

/**
 * pull_request.labeled with `ost:priority` on a merged pull request: the same as `/ost priority` from
 * whoever added the label (a label set before the merge is read with the push instead).
 */
export async function onLabeled(app: GithubApp, context: Context<'pull_request.labeled'>): Promise<void> {
  const payload = context.payload;
  const repo = payload?.repository?.full_name;
  if (typeof repo !== 'string' || !payload.pull_request) return malformed(app, context, 'pull_request missing');
  if (payload.label?.name !== PRIORITY_LABEL || !payload.pull_request.merged || isBot(payload.sender)) return;
  const number = payload.pull_request.number;
  await runCommands(app.common, commandPort(app, context as unknown as Context, { repo, number }), {
    body: '/ost priority',
    user: payload.sender!.login,
    change: prChangeId(repo, number),
    replyTo: { repo, number },
    delivery: `github:${context.id}`,
  });
}

function isBot(sender: { type?: string; login?: string } | undefined): boolean {
  return !sender || sender.type === 'Bot' || (sender.login ?? '').endsWith('[bot]');
}

/** The command loop's port on a pull request: replies as PR comments, permission from the repository. */
function commandPort(app: GithubApp, context: Context, pr: { repo: string; number: number }): CommandPort {
  const { repo, number } = pr;
  let fetched: Promise<PullRequest> | null = null;
  const pull = () =>
    (fetched ??= context.octokit
      .request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...ownerAndName(repo), pull_number: number })
      .then((res) => res.data as PullRequest));
  return {
    render: toMarkdown,
    mention: (user) => `@${user} `,
    reply: (text) => app.deps.reporter.reply('', { repo, number }, text),
    config: async () => {
      const branch = (await pull()).base.ref;
      const config = await baseConfig(app, context, { repo, branch });
      if (!config || !config.branches.includes(branch)) return null;
      return settlePlacement(app.common, { ...placementOf(repo, branch), announce: async () => {} }, config);
    },
    permission: (verb, user, config) => permission(context, { repo, verb, user, config }),
    missedChange: (placement) =>
      missedChange(() => pullChange(pull, pr), placement, {
        repository: repo,
        configFile: CONFIG_PATH,
        label: `#${number}`,
      }),
    openChange: async (user) => openPull(await pull(), { ...pr, user }),
  };
}

/** An open pull request for `/ost try`: its test merge commit into the base branch, or why it cannot be tried. */
function openPull(
  p: PullRequest,
  pr: { repo: string; number: number; user: string },
): OpenChange | { refusal: string } {
  const { repo, number, user } = pr;
  if (p.merged_at)
    return { refusal: `#${number} is merged; ost-gate tests it in its queue (\`/ost status\` says where).` };
  if (p.state !== 'open')
    return { refusal: `#${number} is ${p.state ?? 'not open'}; only an open pull request can be tried.` };
  if (!p.merge_commit_sha || p.mergeable === false)
    return {
      refusal:
        `#${number} has no merge commit into ${p.base.ref} to try (it conflicts, or GitHub is still computing it): ` +
        'resolve the conflicts, or ask again in a minute.',
    };
  return {
    change: prChangeId(repo, number),
    host: HOST,
    project: repo,
    branch: p.base.ref,
    sha: p.merge_commit_sha,
    head: p.head?.sha ?? null,
    ref: `refs/pull/${number}/merge`,
    number,
    title: p.title,
    url: p.html_url,
    by: user,
  };
}

/** The config in force on a PR's base branch; a bad one falls back to the last good one, quietly. */
async function baseConfig(
  app: GithubApp,
  context: Context,
  where: { repo: string; branch: string },
): Promise<RepoConfig | null> {
  try {
    return await readConfig(app, context, where);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const queue = streamQueue(where.repo, where.branch);
    return app.deps.engine.reads.lastRepoConfig(queue, queue);
  }
}

/** Whether the commenter's permission on the repository allows the verb (`commands.permission`). */
async function permission(
  context: Context,
  ask: { repo: string; verb: Verb; user: string; config: RepoConfig | null },
): Promise<{ ok: true } | { ok: false; needs: string }> {
  const { repo, verb, user, config } = ask;
  const minimum = githubSettings(config).permission;
  const data = await context.octokit
    .request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { ...ownerAndName(repo), username: user })
    .then(
      (res) => res.data as { permission: string; role_name?: string },
      (err: { status?: number }) => {
        // GitHub answers 404 for someone who is not a collaborator: no permission, and a reply saying so
        if (err.status === 404) return { permission: 'none' } as { permission: string; role_name?: string };
        throw err;
      },
    );
  const roles = ['admin', 'maintain', 'write', 'triage', 'read'];
  const has = data.role_name && roles.includes(data.role_name) ? data.role_name : data.permission;
  if (githubAllows(verb, has, minimum)) return { ok: true };
  const level = VERBS[verb].level === 'admin' ? 'admin' : minimum;
  return { ok: false, needs: `${level} permission on ${repo}; you have ${has}` };
}

/** A pull request as a change for `/ost enqueue`: merged (into its base branch, at its merge commit), or not. */
async function pullChange(pull: () => Promise<PullRequest>, pr: { repo: string; number: number }): Promise<HostChange> {
  const p = await pull();
  if (!p.merged_at || !p.merge_commit_sha) return { merged: false, label: `#${pr.number}`, state: 'not merged' };
  const change: ChangeInput = {
    id: prChangeId(pr.repo, pr.number),
    sha: p.merge_commit_sha,
    number: pr.number,
    title: p.title,
    url: p.html_url,
    author: p.user?.login ?? null,
  };
  // the same queue a push of the base branch would use, with the config in force there
  return { merged: true, stream: { host: HOST, project: pr.repo, branch: p.base.ref }, change };
}
