// push (and pull_request.closed, which remembers the merged PR for the push that follows): a push of
// a gated branch becomes a merge event of its changes, each a merged pull request or a direct push,
// with a queued "ost-gate" check run on each.
import type { Context } from 'probot';
import type { ChangeInput, CoreEvent } from '../../../core/index.ts';
import { githubSettings } from '../config.ts';
import { prNumberFromMessage } from '../ids.ts';
import { changesFromPush, type PullInfo, type PushCommit } from '../push.ts';
import {
  CONFIG_PATH,
  configOn,
  HOST,
  malformed,
  ownerAndName,
  type GithubApp,
  type PullRequest,
} from '../repository.ts';

/** pull_request.closed: a merged PR is remembered for the push that brings its merge commit. */
export async function onPullRequestClosed(app: GithubApp, context: Context<'pull_request.closed'>): Promise<void> {
  const pr = context.payload?.pull_request;
  const repo = context.payload?.repository?.full_name;
  if (!pr || typeof repo !== 'string') return malformed(app, context, 'pull_request or repository missing');
  if (!pr.merged || !pr.merge_commit_sha) return;
  app.pulls.set(`${repo}@${pr.merge_commit_sha}`, {
    number: pr.number,
    title: pr.title,
    html_url: pr.html_url,
    body: pr.body ?? null,
    user: pr.user ? { login: pr.user.login } : null,
    labels: (pr.labels ?? []).map((l) => ({ name: l.name })),
  });
}

/** push: the branch's new commits, placed in their queue, as one merge event. */
export async function onPush(app: GithubApp, context: Context<'push'>): Promise<void> {
  const push = readPush(context);
  if (!push) return malformed(app, context, 'ref, before, after or repository missing');
  if (!push.branch) return;
  const { repo, branch } = push;
  const placement = await configOn(app, context as Context, {
    repo,
    branch,
    sha: push.after,
    ...(leavesConfig(push) ? { reusable: { before: push.before, after: push.after } } : {}),
  });
  if (!placement) return notGated(app, repo, branch);
  const { queue, config } = placement;
  const findPr = (sha: string, message: string) => findPull(app, context as Context, { repo, sha, message });
  const changes = await changesFromPush(repo, push.before, push.commits, findPr, config.paths_ignore);
  if (changes.length === 0) return;
  // the queued check goes first: once submitted, a run may start at once and mark the check in progress
  if (githubSettings(config).check) await markQueued(app, { queue, repo, changes });
  const event: CoreEvent = {
    type: 'merged',
    at: app.common.now(),
    stream: { host: HOST, project: repo, branch },
    before: push.before,
    after: push.after,
    forced: push.forced,
    changes,
  };
  await app.deps.engine.submit(queue, event, { delivery: `github:${context.id}` });
  if (push.forced)
    app.common.log.warn(
      { repo, branch },
      `force-push to ${repo} ${branch}; the queue takes the new history from ${push.after.slice(0, 10)}`,
    );
}

/** GitHub lists at most this many commits in a push payload; a longer push may hide some. */
const LISTED_COMMITS = 20;

/** Whether the payload shows that no commit of the push touched the config (not a force-push, every commit listed). */
function leavesConfig(push: Push): boolean {
  if (push.forced || push.commits.length === 0 || push.commits.length >= LISTED_COMMITS) return false;
  return push.commits.every((c) =>
    [c.added, c.modified, c.removed].every((files) => Array.isArray(files) && !files.includes(CONFIG_PATH)),
  );
}

interface Push {
  repo: string;
  /** The branch pushed to; null for a tag, or a deleted branch. */
  branch: string | null;
  before: string;
  after: string;
  forced: boolean;
  commits: PushCommit[];
}

/** The fields of a push payload the handler uses, or null when it lacks them. */
function readPush(context: Context<'push'>): Push | null {
  const p = context.payload;
  if (
    typeof p?.ref !== 'string' ||
    typeof p.repository?.full_name !== 'string' ||
    typeof p.before !== 'string' ||
    typeof p.after !== 'string'
  )
    return null;
  const branch = p.ref.startsWith('refs/heads/') && !p.deleted ? p.ref.slice('refs/heads/'.length) : null;
  const commits = (p.commits ?? []) as unknown as PushCommit[];
  return { repo: p.repository.full_name, branch, before: p.before, after: p.after, forced: !!p.forced, commits };
}

function notGated(app: GithubApp, repo: string, branch: string): void {
  const key = `${repo}@${branch}`;
  if (!app.unconfigured.has(key))
    app.common.log.info(
      { repo, branch },
      `${repo} ${branch} is not gated (no ${CONFIG_PATH}, or ${branch} is not in its branches)`,
    );
  app.unconfigured.add(key);
}

/** The merged pull request of a pushed commit: remembered, named in its message, or asked of GitHub. */
async function findPull(
  app: GithubApp,
  context: Context,
  commit: { repo: string; sha: string; message: string },
): Promise<PullInfo | null> {
  const { repo, sha, message } = commit;
  const cached = app.pulls.get(`${repo}@${sha}`);
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
    app.common.log.warn(
      { repo, sha, err: (err as Error).message },
      'could not look up the pull request of a commit; treating it as a direct push',
    );
    return null;
  }
}

/** A queued "ost-gate" check run on each change the queue does not have yet. */
async function markQueued(
  app: GithubApp,
  push: { queue: string; repo: string; changes: ChangeInput[] },
): Promise<void> {
  const known = (await app.deps.engine.reads.queue(push.queue))?.state.changes ?? {};
  for (const c of push.changes) {
    if (c.skipReason || known[c.id]) continue;
    const output = { title: 'ost-gate: queued', summary: 'Waiting for a system-test run.' };
    await app.deps.reporter
      .check({ id: c.id, project: push.repo, sha: c.sha }, { status: 'queued', output })
      .catch((err) =>
        app.common.log.warn({ change: c.id, err: (err as Error).message }, 'could not create the queued check run'),
      );
  }
}
