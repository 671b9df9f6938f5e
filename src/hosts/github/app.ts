// The GitHub App (Probot): pushes give changes and their order, workflow_run gives results,
// comments and reviews carry slash commands. Everything goes into the engine as core events.
import type { ApplicationFunction, Context, Probot } from 'probot';
import type { CoreEvent, ChangeInput } from '../../core/index.ts';
import { conclusionStatus } from '../../ci/github-actions.ts';
import { ConfigError } from '../../config/errors.ts';
import { ciTarget, validateRepoConfig, type RepoConfig } from '../../config/repo.ts';
import { githubAllows, helpText, parseCommands, VERBS, type Verb } from '../../commands/parse.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';
import { prChangeId, prNumberFromMessage } from './ids.ts';
import { changesFromPush, type PullInfo, type PushCommit } from './push.ts';
import type { GithubReporter } from './reporter.ts';
import { describeChange } from './status.ts';

export const CONFIG_PATH = '.github/ost-gate.yml';
const CONFIG_CHECK = 'ost-gate config';
const PR_CACHE = 2000;

export interface GithubAppDeps {
  engine: Engine;
  reporter: GithubReporter;
  log: Logger;
  now?: () => number;
  publicUrl?: string;
}

type AnyContext = Context;

function isBot(sender: { type?: string; login?: string } | undefined): boolean {
  return !sender || sender.type === 'Bot' || (sender.login ?? '').endsWith('[bot]');
}

export function githubApp(deps: GithubAppDeps): ApplicationFunction {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const pulls = new Map<string, PullInfo>();
  const unconfigured = new Set<string>();

  /** The repo config on `branch`, validated; null when there is none. Throws ConfigError when invalid. */
  /** The queue a branch's changes go to: the config's shared `queue`, or one per repository and branch. */
  function queueFor(repo: string, branch: string, config: RepoConfig | null): string {
    return config?.queue ?? `github:${repo}@${branch}`;
  }

  async function loadConfig(context: AnyContext, repo: string, branch: string): Promise<RepoConfig | null> {
    const [owner, name] = repo.split('/') as [string, string];
    const { config, files } = await context.octokit.config.get({ owner, repo: name, path: CONFIG_PATH, branch });
    if (!files.some((f) => f.config !== null)) return null;
    return validateRepoConfig(config, `${repo}:${CONFIG_PATH} on ${branch}`);
  }

  async function findPull(context: AnyContext, repo: string, sha: string, message: string): Promise<PullInfo | null> {
    const cached = pulls.get(`${repo}@${sha}`);
    if (cached) return cached;
    const [owner, name] = repo.split('/') as [string, string];
    const number = prNumberFromMessage(message);
    try {
      if (number) {
        const res = await context.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
          owner,
          repo: name,
          pull_number: number,
        });
        return res.data as PullInfo;
      }
      const res = await context.octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', {
        owner,
        repo: name,
        commit_sha: sha,
      });
      const merged = (res.data as (PullInfo & { merged_at: string | null })[]).find((p) => p.merged_at);
      return merged ?? null;
    } catch (err) {
      log.warn(
        { repo, sha, err: (err as Error).message },
        'could not look up the pull request of a commit; treating it as a direct push',
      );
      return null;
    }
  }

  /** Logs and drops a signed payload that lacks what the handler needs; GitHub gets a 200 and does not redeliver. */
  function malformed(context: AnyContext, what: string): void {
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
    const defaultQueue = queueFor(repo, branch, null);
    let config: RepoConfig | null;
    try {
      config = await loadConfig(context, repo, branch);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      await reportBadConfig(context, repo, p.after, err);
      const last = await deps.engine.read(defaultQueue);
      config = last?.repoConfig ?? null;
      if (!config) return;
      await deps.engine.addNotice(config.queue ?? defaultQueue, {
        at: now(),
        level: 'error',
        code: 'config-invalid',
        message: `${err.message}\nThe last good config stays in force.`,
      });
    }
    if (!config) {
      if (!unconfigured.has(repo)) log.info({ repo }, `${repo} has no ${CONFIG_PATH}; it is not gated`);
      unconfigured.add(repo);
      return;
    }
    if (!config.branches.includes(branch)) return;
    const commits = (p.commits ?? []) as unknown as PushCommit[];
    const changes = await changesFromPush(
      repo,
      p.before,
      commits,
      (sha, message) => findPull(context, repo, sha, message),
      config.paths_ignore,
    );
    if (changes.length === 0) return;
    const queue = queueFor(repo, branch, config);
    const event: CoreEvent = {
      type: 'merged',
      at: now(),
      stream: { host: 'github', project: repo, branch },
      before: p.before,
      after: p.after,
      forced: p.forced,
      changes,
    };
    await deps.engine.configure(queue, config, ciTarget(config, repo), now());
    await deps.engine.submit(queue, event, { delivery: `github:${context.id}` });
    if (p.forced)
      log.warn(
        { repo, branch },
        `force-push to ${repo} ${branch}; the queue takes the new history from ${p.after.slice(0, 10)}`,
      );
    if (config.report.check) await markQueued(changes, repo);
  }

  async function markQueued(changes: ChangeInput[], repo: string): Promise<void> {
    for (const c of changes) {
      if (c.skipReason) continue;
      await deps.reporter
        .check(
          { id: c.id, project: repo, sha: c.sha },
          { status: 'queued', output: { title: 'ost-gate: queued', summary: 'Waiting for a system-test run.' } },
        )
        .catch((err) =>
          log.warn({ change: c.id, err: (err as Error).message }, 'could not create the queued check run'),
        );
    }
  }

  async function reportBadConfig(context: AnyContext, repo: string, sha: string, err: ConfigError): Promise<void> {
    log.error({ repo, problems: err.problems }, `${err.message}\nThe last good config stays in force.`);
    const [owner, name] = repo.split('/') as [string, string];
    await context.octokit
      .request('POST /repos/{owner}/{repo}/check-runs', {
        owner,
        repo: name,
        name: CONFIG_CHECK,
        head_sha: sha,
        status: 'completed',
        conclusion: 'failure',
        output: {
          title: `${CONFIG_PATH} is not valid`,
          summary: `${err.problems.map((p) => `- ${p}`).join('\n')}\n\nThe last good config stays in force; no queued change is dropped.`,
        },
      })
      .catch((e) => log.warn({ err: (e as Error).message }, 'could not post the config check run'));
  }

  async function onWorkflowRun(context: Context<'workflow_run.completed'>): Promise<void> {
    const run = context.payload?.workflow_run as
      { id: number; display_title?: string; conclusion: string | null; html_url: string } | undefined;
    if (!run || run.id === undefined) return malformed(context, 'workflow_run missing');
    const status = conclusionStatus(run.conclusion);
    for (const queue of await deps.engine.queues()) {
      const file = await deps.engine.read(queue);
      if (!file) continue;
      const byId = Object.values(file.state.runs).find(
        (r) => r.ciRunId !== undefined && r.ciRunId !== null && String(r.ciRunId) === String(run.id),
      );
      const byTitle = Object.values(file.state.runs).find((r) =>
        (run.display_title ?? '').split(/\s+/).includes(r.key),
      );
      const match = byId ?? byTitle;
      if (!match) continue;
      await deps.engine.submit(
        queue,
        { type: 'run-finished', at: now(), key: match.key, status, url: run.html_url },
        { delivery: `github:${context.id}` },
      );
      return;
    }
    log.info({ run: run.id, title: run.display_title }, 'workflow_run for no known ost-gate run ignored');
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
    const body = payload.comment?.body ?? payload.review?.body ?? '';
    const number = payload.pull_request?.number ?? (payload.issue?.pull_request ? payload.issue.number : undefined);
    if (!number) return;
    const commands = parseCommands(body);
    if (commands.length === 0) return;
    const repo = payload.repository.full_name;
    const [owner, name] = repo.split('/') as [string, string];
    const user = payload.sender!.login!;
    const id = prChangeId(repo, number);
    const replyTo = { repo, number };
    const reply = (text: string) => deps.reporter.reply('', replyTo, text);
    for (const [i, cmd] of commands.entries()) {
      if (cmd.verb === null) {
        await reply(helpText(`@${user} \`/ost ${cmd.unknown}\` is not a command.\n\n`));
        continue;
      }
      if (cmd.verb === 'help') {
        await reply(helpText());
        continue;
      }
      const found = await deps.engine.findChange(id);
      if (VERBS[cmd.verb].level !== 'anyone') {
        const minimum = found?.file.repoConfig?.commands.permission;
        const min = typeof minimum === 'string' ? minimum : 'write';
        const res = await context.octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
          owner,
          repo: name,
          username: user,
        });
        const data = res.data as { permission: string; role_name?: string };
        const has =
          data.role_name && ['admin', 'maintain', 'write', 'triage', 'read'].includes(data.role_name)
            ? data.role_name
            : data.permission;
        if (!githubAllows(cmd.verb, has, min)) {
          await reply(
            `@${user} \`/ost ${cmd.verb}\` needs ${VERBS[cmd.verb].level === 'admin' ? 'admin' : min} permission on ${repo}; you have ${has}. Nothing was changed.`,
          );
          continue;
        }
      }
      if (cmd.verb === 'status') {
        await reply(
          found
            ? describeChange(found.queue, found.file, id, deps.publicUrl)
            : `${id} is not in any ost-gate queue. \`/ost enqueue\` adds a merged change that was missed.`,
        );
        continue;
      }
      let queue = found?.queue;
      let input: { stream: { host: string; project: string; branch: string }; change: ChangeInput } | undefined;
      if (!queue && cmd.verb === 'enqueue') {
        const res = await context.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', {
          owner,
          repo: name,
          pull_number: number,
        });
        const pr = res.data as PullInfo & {
          merged_at: string | null;
          merge_commit_sha: string | null;
          base: { ref: string };
        };
        if (!pr.merged_at || !pr.merge_commit_sha) {
          await reply(`@${user} #${number} is not merged; ost-gate tests merged changes only.`);
          continue;
        }
        // the same queue a push of the base branch would use, with the config in force there
        const branch = pr.base.ref;
        let config: RepoConfig | null;
        try {
          config = await loadConfig(context, repo, branch);
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          config = (await deps.engine.read(queueFor(repo, branch, null)))?.repoConfig ?? null;
        }
        if (!config || !config.branches.includes(branch)) {
          await reply(
            `@${user} ${repo} does not gate ${branch} (no ${CONFIG_PATH} there, or ${branch} is not in its branches), so #${number} is not enqueued.`,
          );
          continue;
        }
        queue = queueFor(repo, branch, config);
        await deps.engine.configure(queue, config, ciTarget(config, repo), now());
        input = {
          stream: { host: 'github', project: repo, branch: pr.base.ref },
          change: {
            id,
            sha: pr.merge_commit_sha,
            number,
            title: pr.title,
            url: pr.html_url,
            author: pr.user?.login ?? null,
          },
        };
      }
      if (!queue) {
        await reply(`@${user} ${id} is not in any ost-gate queue, so there is nothing to ${cmd.verb}.`);
        continue;
      }
      await deps.engine.submit(
        queue,
        {
          type: 'command',
          at: now(),
          verb: cmd.verb as Exclude<Verb, 'help' | 'status'>,
          change: id,
          user,
          replyTo,
          ...(input ? { input } : {}),
        },
        { delivery: `github:${context.id}:${i}` },
      );
    }
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
      if (pulls.size > PR_CACHE) pulls.delete(pulls.keys().next().value!);
    });
    app.on('push', onPush);
    app.on('workflow_run.completed', onWorkflowRun);
    app.on(
      ['issue_comment.created', 'pull_request_review.submitted', 'pull_request_review_comment.created'],
      onComment,
    );
    app.on(['installation', 'installation_repositories'], async (context) => {
      log.info(
        {
          event: context.name,
          action: (context.payload as { action?: string }).action,
          account: (context.payload as { installation?: { account?: { login?: string } } }).installation?.account
            ?.login,
        },
        `GitHub App ${context.name} event`,
      );
    });
  };
}
