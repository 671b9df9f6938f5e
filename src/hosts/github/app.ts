// The GitHub App (Probot): pushes give changes and their order, workflow_run gives results,
// comments and reviews carry slash commands. Everything goes into the engine as core events; config
// loading and the command loop are the ones every host shares (hosts/common).
import type { ApplicationFunction, Context, Probot } from 'probot';
import { streamId, type ChangeInput, type CoreEvent, type Run } from '../../core/index.ts';
import { httpUrl } from '../../http/url.ts';
import { conclusionStatus } from '../../ci/github-actions.ts';
import { ConfigError } from '../../config/errors.ts';
import {
  dispatchInputsProblem,
  dispatchTarget,
  validateRepoConfig,
  type QueueCi,
  type RepoConfig,
  type SharedQueue,
} from '../../config/repo.ts';
import { BoundedMap } from '../../util/bounded.ts';
import { githubAllows, VERBS, type Verb } from '../../commands/parse.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';
import { toMarkdown } from '../../report/markdown.ts';
import { missedChange, runCommands, type CommandPort, type HostChange } from '../common/commands.ts';
import { loadRepoConfig, settlePlacement, type Placement, type RepoOwner } from '../common/repo-config.ts';
import { prChangeId, prNumberFromMessage } from './ids.ts';
import { changesFromPush, type PullInfo, type PushCommit } from './push.ts';
import type { GithubReporter } from './reporter.ts';

export const CONFIG_PATH = '.github/ost-gate.yml';
const CONFIG_CHECK = 'ost-gate config';
const PR_CACHE = 2000;
const HOST = 'github';

export interface GithubAppDeps {
  engine: Engine;
  reporter: GithubReporter;
  log: Logger;
  now?: () => number;
  publicUrl?: string | undefined;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>>;
  /** The CI providers the server has, to refuse a config naming another. */
  providers?: () => readonly string[];
  /** The API is a GitHub Enterprise Server (GHE_HOST), with its own limits. */
  ghes?: boolean;
}

function isBot(sender: { type?: string; login?: string } | undefined): boolean {
  return !sender || sender.type === 'Bot' || (sender.login ?? '').endsWith('[bot]');
}

function ownerAndName(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

/** A repository's namespace is its account: it may name queues `github:<owner>/...` and join declared ones. */
function ownerOf(repo: string): RepoOwner {
  return { namespace: `${HOST}:${repo.split('/')[0]}/`, member: `${HOST}:${repo}`, repository: repo };
}

/** The queue of a repository's branch when its config names no shared queue: one per stream. */
function streamQueue(repo: string, branch: string): string {
  return streamId({ host: HOST, project: repo, branch });
}

type PullRequest = PullInfo & { merged_at: string | null; merge_commit_sha: string | null; base: { ref: string } };

/**
 * Why a completed workflow run may not report the result of `run`, or null when it may: it must come
 * from the repository and workflow the run was dispatched to, and be the very run when its id is known.
 */
export function workflowRunRefusal(
  run: Run,
  ci: QueueCi | null | undefined,
  from: { repo: string; id: number; path?: string | undefined },
): string | null {
  const target = run.target ?? dispatchTarget(ci);
  const [provider, repository, workflow] = target.split(':');
  if (provider !== 'github-actions') return `run ${run.key} was sent to ${target}, not to GitHub Actions`;
  if (repository?.toLowerCase() !== from.repo.toLowerCase())
    return `run ${run.key} was sent to ${repository}, and this workflow run is from ${from.repo}`;
  if (from.path && workflow && from.path.split('/').pop() !== workflow)
    return `run ${run.key} was sent to the workflow ${workflow}, not ${from.path}`;
  if (run.ciRunId !== undefined && run.ciRunId !== null && String(run.ciRunId) !== String(from.id))
    return `run ${run.key} is workflow run ${run.ciRunId}, not ${from.id}`;
  return null;
}

export function githubApp(deps: GithubAppDeps): ApplicationFunction {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const common = {
    engine: deps.engine,
    log,
    now,
    publicUrl: deps.publicUrl,
    sharedQueues: deps.sharedQueues ?? {},
    providers: deps.providers,
  };
  /** Merged PRs by `<repo>@<merge sha>`, from pull_request.closed, so that a push needs no API call for them. */
  const pulls = new BoundedMap<string, PullInfo>(PR_CACHE);
  const unconfigured = new Set<string>();

  /** Reads `.github/ost-gate.yml` on `branch` (with `_extends`); null when there is none. Throws ConfigError. */
  async function readConfig(context: Context, repo: string, branch: string): Promise<RepoConfig | null> {
    const { config, files } = await context.octokit.config.get({ ...ownerAndName(repo), path: CONFIG_PATH, branch });
    if (!files.some((f) => f.config !== null)) return null;
    const source = `${repo}:${CONFIG_PATH} on ${branch}`;
    const valid = validateRepoConfig(config, source);
    const tooMany = deps.ghes ? dispatchInputsProblem(Object.keys(valid.ci.inputs).length, true) : null;
    if (valid.ci.provider === 'github-actions' && tooMany) throw new ConfigError(source, [`ci.inputs: ${tooMany}`]);
    return valid;
  }

  /** The config in force on `branch`; a bad one gets a failing "ost-gate config" check run on `sha`. */
  function configOn(context: Context, repo: string, branch: string, sha: string): Promise<Placement | null> {
    return loadRepoConfig(common, {
      ...placementOf(repo, branch),
      read: () => readConfig(context, repo, branch),
      announce: (err, text) => postConfigCheck(context, repo, sha, err, text),
    });
  }

  /** Where a branch's config is read and its changes placed, for messages and the queue rules. */
  function placementOf(repo: string, branch: string) {
    return {
      branch,
      defaultQueue: streamQueue(repo, branch),
      stream: streamQueue(repo, branch),
      owner: ownerOf(repo),
      source: `${repo}:${CONFIG_PATH} on ${branch}`,
      context: { repo },
    };
  }

  async function postConfigCheck(context: Context, repo: string, sha: string, err: ConfigError, text: string) {
    await context.octokit.request('POST /repos/{owner}/{repo}/check-runs', {
      ...ownerAndName(repo),
      name: CONFIG_CHECK,
      head_sha: sha,
      status: 'completed',
      conclusion: 'failure',
      output: {
        title: `${CONFIG_PATH} is not valid`,
        summary: `${err.problems.map((p) => `- ${p}`).join('\n')}\n\n${text.split('\n').at(-1)}`,
      },
    });
  }

  async function findPull(context: Context, repo: string, sha: string, message: string): Promise<PullInfo | null> {
    const cached = pulls.get(`${repo}@${sha}`);
    if (cached) return cached;
    const number = prNumberFromMessage(message);
    try {
      if (number) {
        const res = await context.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
          ...ownerAndName(repo),
          pull_number: number,
        });
        return res.data as PullInfo;
      }
      const res = await context.octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
        ...ownerAndName(repo),
        commit_sha: sha,
      });
      return (res.data as PullRequest[]).find((p) => p.merged_at) ?? null;
    } catch (err) {
      log.warn(
        { repo, sha, err: (err as Error).message },
        'could not look up the pull request of a commit; treating it as a direct push',
      );
      return null;
    }
  }

  /** Logs and drops a signed payload that lacks what the handler needs; GitHub gets a 200 and does not redeliver. */
  function malformed(context: Context, what: string): void {
    log.warn({ event: context.name, delivery: context.id }, `malformed ${context.name} payload ignored: ${what}`);
  }

  async function onPush(context: Context<'push'>): Promise<void> {
    const p = context.payload;
    if (
      typeof p?.ref !== 'string' ||
      typeof p.repository?.full_name !== 'string' ||
      typeof p.before !== 'string' ||
      typeof p.after !== 'string'
    )
      return malformed(context, 'ref, before, after or repository missing');
    if (!p.ref.startsWith('refs/heads/') || p.deleted) return;
    const branch = p.ref.slice('refs/heads/'.length);
    const repo = p.repository.full_name;
    const placement = await configOn(context as Context, repo, branch, p.after);
    if (!placement) return notGated(repo, branch);
    const { queue, config } = placement;
    const commits = (p.commits ?? []) as unknown as PushCommit[];
    const findPr = (sha: string, message: string) => findPull(context as Context, repo, sha, message);
    const changes = await changesFromPush(repo, p.before, commits, findPr, config.paths_ignore);
    if (changes.length === 0) return;
    const event: CoreEvent = {
      type: 'merged',
      at: now(),
      stream: { host: HOST, project: repo, branch },
      before: p.before,
      after: p.after,
      forced: p.forced,
      changes,
    };
    // the queued check goes first: once submitted, a run may start at once and mark the check in progress
    const known = (await deps.engine.reads.queue(queue))?.state.changes ?? {};
    if (config.report.check)
      await markQueued(
        changes.filter((c) => !known[c.id]),
        repo,
      );
    await deps.engine.submit(queue, event, { delivery: `github:${context.id}` });
    if (p.forced)
      log.warn(
        { repo, branch },
        `force-push to ${repo} ${branch}; the queue takes the new history from ${p.after.slice(0, 10)}`,
      );
  }

  function notGated(repo: string, branch: string): void {
    const key = `${repo}@${branch}`;
    if (!unconfigured.has(key))
      log.info(
        { repo, branch },
        `${repo} ${branch} is not gated (no ${CONFIG_PATH}, or ${branch} is not in its branches)`,
      );
    unconfigured.add(key);
  }

  async function markQueued(changes: ChangeInput[], repo: string): Promise<void> {
    for (const c of changes) {
      if (c.skipReason) continue;
      const output = { title: 'ost-gate: queued', summary: 'Waiting for a system-test run.' };
      await deps.reporter
        .check({ id: c.id, project: repo, sha: c.sha }, { status: 'queued', output })
        .catch((err) =>
          log.warn({ change: c.id, err: (err as Error).message }, 'could not create the queued check run'),
        );
    }
  }

  async function onWorkflowRun(context: Context<'workflow_run.completed'>): Promise<void> {
    const run = context.payload?.workflow_run as
      { id: number; display_title?: string; conclusion: string | null; html_url: string; path?: string } | undefined;
    const repo = context.payload?.repository?.full_name;
    if (!run || run.id === undefined || typeof repo !== 'string') return malformed(context, 'workflow_run missing');
    const keys = (run.display_title ?? '').split(/\s+/).filter((w) => w.includes('.'));
    let found = await deps.engine.reads.run({ ciRunId: run.id });
    for (const key of keys) found ??= await deps.engine.reads.run({ key });
    if (!found) {
      log.info({ run: run.id, title: run.display_title }, 'workflow_run for no known ost-gate run ignored');
      return;
    }
    const refusal = workflowRunRefusal(found.run, found.file.ci, { repo, id: run.id, path: run.path });
    if (refusal) {
      log.warn({ run: run.id, repo, key: found.run.key }, `workflow_run refused: ${refusal}`);
      return;
    }
    const event: CoreEvent = {
      type: 'run-finished',
      at: now(),
      key: found.run.key,
      status: conclusionStatus(run.conclusion),
      url: httpUrl(run.html_url),
    };
    await deps.engine.submit(found.queue, event, { delivery: `github:${context.id}` });
  }

  /** The command loop's port on a pull request: replies as PR comments, permission from the repository. */
  function commandPort(context: Context, repo: string, number: number): CommandPort {
    let pr: Promise<PullRequest> | null = null;
    const pull = () =>
      (pr ??= context.octokit
        .request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...ownerAndName(repo), pull_number: number })
        .then((res) => res.data as PullRequest));
    /** The config in force on the PR's base branch; a bad one falls back to the last good one, quietly. */
    const baseConfig = async (branch: string): Promise<RepoConfig | null> => {
      try {
        return await readConfig(context, repo, branch);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return deps.engine.reads.lastRepoConfig(streamQueue(repo, branch), streamQueue(repo, branch));
      }
    };
    return {
      render: toMarkdown,
      mention: (user) => `@${user} `,
      reply: (text) => deps.reporter.reply('', { repo, number }, text),
      config: async () => {
        const branch = (await pull()).base.ref;
        const config = await baseConfig(branch);
        if (!config || !config.branches.includes(branch)) return null;
        return settlePlacement(common, { ...placementOf(repo, branch), announce: async () => {} }, config);
      },
      permission: async (verb: Verb, user: string, config: RepoConfig | null) => {
        const minimum = typeof config?.commands.permission === 'string' ? config.commands.permission : 'write';
        const data = await context.octokit
          .request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
            ...ownerAndName(repo),
            username: user,
          })
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
      },
      missedChange: (placement) =>
        missedChange(
          async (): Promise<HostChange> => {
            const p = await pull();
            if (!p.merged_at || !p.merge_commit_sha) return { merged: false, label: `#${number}`, state: 'not merged' };
            const change: ChangeInput = {
              id: prChangeId(repo, number),
              sha: p.merge_commit_sha,
              number,
              title: p.title,
              url: p.html_url,
              author: p.user?.login ?? null,
            };
            // the same queue a push of the base branch would use, with the config in force there
            return { merged: true, stream: { host: HOST, project: repo, branch: p.base.ref }, change };
          },
          placement,
          { repository: repo, configFile: CONFIG_PATH, label: `#${number}` },
        ),
    };
  }

  async function onComment(
    context: Context<'issue_comment.created' | 'pull_request_review.submitted' | 'pull_request_review_comment.created'>,
  ): Promise<void> {
    const payload = context.payload as {
      comment?: { body?: string | null };
      review?: { body?: string | null };
      issue?: { number: number; pull_request?: unknown };
      pull_request?: { number: number };
      sender?: { type?: string; login?: string };
      repository: { full_name: string };
    };
    if (typeof payload?.repository?.full_name !== 'string') return malformed(context, 'repository missing');
    if (isBot(payload.sender)) return;
    const number = payload.pull_request?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined);
    if (!number) return;
    const repo = payload.repository.full_name;
    await runCommands(common, commandPort(context as Context, repo, number), {
      body: payload.comment?.body ?? payload.review?.body ?? '',
      user: payload.sender!.login!,
      change: prChangeId(repo, number),
      replyTo: { repo, number },
      delivery: `github:${context.id}`,
    });
  }

  return (app: Probot) => {
    app.on('pull_request.closed', async (context) => {
      const pr = context.payload?.pull_request;
      if (!pr || typeof context.payload.repository?.full_name !== 'string')
        return malformed(context, 'pull_request or repository missing');
      if (!pr.merged || !pr.merge_commit_sha) return;
      pulls.set(`${context.payload.repository.full_name}@${pr.merge_commit_sha}`, {
        number: pr.number,
        title: pr.title,
        html_url: pr.html_url,
        body: pr.body ?? null,
        user: pr.user ? { login: pr.user.login } : null,
      });
    });
    app.on('push', onPush);
    app.on('workflow_run.completed', onWorkflowRun);
    app.on(
      ['issue_comment.created', 'pull_request_review.submitted', 'pull_request_review_comment.created'],
      onComment,
    );
    app.on(['installation', 'installation_repositories'], async (context) => {
      const p = context.payload as { action?: string; installation?: { account?: { login?: string } } };
      log.info(
        { event: context.name, action: p.action, account: p.installation?.account?.login },
        `GitHub App ${context.name} event`,
      );
    });
  };
}
