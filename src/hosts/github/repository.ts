// What every GitHub handler needs of a repository: its config (`.github/ost-gate.yml`, read with
// Probot's `context.config`, so `_extends` works), where its branches' changes are placed, and the
// failing "ost-gate config" check run that tells the people who merged a bad config.
import type { Context } from 'probot';
import { streamId } from '../../core/index.ts';
import { ConfigError } from '../../config/errors.ts';
import { dispatchInputsProblem } from '../../ci/github-actions/kind.ts';
import type { RepoConfig } from '../../config/repo.ts';
import type { Logger } from '../../log.ts';
import { BoundedMap } from '../../util/bounded.ts';
import { commonDeps, type CommonDeps, type HostDeps } from '../common/host-deps.ts';
import { loadRepoConfig, type Placement, type RepoOwner } from '../common/repo-config.ts';
import type { PullInfo } from './push.ts';
import type { GithubReporter } from './reporter.ts';

export const CONFIG_PATH = '.github/ost-gate.yml';
const CONFIG_CHECK = 'ost-gate config';
/** Merged pull requests remembered from pull_request.closed, so that a push needs no API call for them. */
const PR_CACHE = 2000;
export const HOST = 'github';

export interface GithubAppDeps extends HostDeps {
  reporter: GithubReporter;
  log: Logger;
  /** The App's installation of each repository, forgotten when the App is taken off one. */
  installations?: { forget(repo: string): void };
  /** The API is a GitHub Enterprise Server (GHE_HOST), with its own limits. */
  ghes?: boolean;
}

/** What the handlers share: the app's dependencies, the config rules, and what the app remembers. */
export interface GithubApp {
  deps: GithubAppDeps;
  /** The engine, config rules, log and clock, as every host has them. */
  common: CommonDeps;
  /** Merged PRs by `<repo>@<merge sha>`. */
  pulls: BoundedMap<string, PullInfo>;
  /** Branches already logged as not gated. */
  unconfigured: Set<string>;
  /** `<repo>@<branch>` -> where its changes went at tip `tip`, kept while later pushes leave the config alone. */
  placements: BoundedMap<string, { placement: Placement; tip: string }>;
}

export function githubAppState(deps: GithubAppDeps): GithubApp {
  const common = commonDeps(deps);
  return {
    deps,
    common,
    pulls: new BoundedMap(PR_CACHE),
    unconfigured: new Set(),
    placements: new BoundedMap(PR_CACHE),
  };
}

export type PullRequest = PullInfo & {
  merged_at: string | null;
  /** The merge commit once merged; while open, the test merge commit GitHub keeps at `refs/pull/N/merge`. */
  merge_commit_sha: string | null;
  base: { ref: string };
  state?: string;
  head?: { sha: string };
  /** Null while GitHub computes it. */
  mergeable?: boolean | null;
};

export function ownerAndName(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

/** A repository's namespace is its account: it may name queues `github:<owner>/...` and join declared ones. */
export function ownerOf(repo: string): RepoOwner {
  return { namespace: `${HOST}:${repo.split('/')[0]}/`, member: `${HOST}:${repo}`, repository: repo };
}

/** The queue of a repository's branch when its config names no shared queue: one per stream. */
export function streamQueue(repo: string, branch: string): string {
  return streamId({ host: HOST, project: repo, branch });
}

/**
 * Reads `.github/ost-gate.yml` on `branch` (with `_extends`); null when there is none. Throws ConfigError.
 * `read.extended` says whether it extends another file, which a push to this branch does not show.
 */
export async function readConfig(
  app: GithubApp,
  context: Context,
  where: { repo: string; branch: string },
  read: { extended?: boolean } = {},
): Promise<RepoConfig | null> {
  const { repo, branch } = where;
  const { config, files } = await context.octokit.config.get({ ...ownerAndName(repo), path: CONFIG_PATH, branch });
  read.extended = files.length > 1;
  if (!files.some((f) => f.config !== null)) return null;
  const source = `${repo}:${CONFIG_PATH} on ${branch}`;
  const valid = app.common.rules.validateRepo(config, source);
  const tooMany = app.deps.ghes ? dispatchInputsProblem(Object.keys(valid.ci.inputs).length, true) : null;
  if (valid.ci.provider === 'github-actions' && tooMany) throw new ConfigError(source, [`ci.inputs: ${tooMany}`]);
  return valid;
}

/** Where a branch's config is read and its changes placed, for messages and the queue rules. */
export function placementOf(repo: string, branch: string) {
  return {
    branch,
    defaultQueue: streamQueue(repo, branch),
    stream: streamQueue(repo, branch),
    owner: ownerOf(repo),
    source: `${repo}:${CONFIG_PATH} on ${branch}`,
    context: { repo },
  };
}

/**
 * The config in force on `branch`; a bad one gets a failing "ost-gate config" check run on `sha`.
 * Kept for the next push when it extends no other file, and reused while each push follows the last
 * and leaves the file alone (`reusable`).
 */
export async function configOn(
  app: GithubApp,
  context: Context,
  where: { repo: string; branch: string; sha: string; reusable?: { after: string; before: string } },
): Promise<Placement | null> {
  const { repo, branch, sha, reusable } = where;
  const key = `${repo}@${branch}`;
  const kept = app.placements.get(key);
  if (kept && reusable && kept.tip === reusable.before) {
    app.placements.set(key, { placement: kept.placement, tip: reusable.after });
    return kept.placement;
  }
  app.placements.delete(key);
  const read: { extended?: boolean } = {};
  const placement = await loadRepoConfig(app.common, {
    ...placementOf(repo, branch),
    read: () => readConfig(app, context, { repo, branch }, read),
    announce: (err, text) => postConfigCheck(context, { repo, sha }, err, text),
  });
  if (placement && read.extended === false) app.placements.set(key, { placement, tip: sha });
  return placement;
}

async function postConfigCheck(
  context: Context,
  where: { repo: string; sha: string },
  err: ConfigError,
  text: string,
): Promise<void> {
  await context.octokit.request('POST /repos/{owner}/{repo}/check-runs', {
    ...ownerAndName(where.repo),
    name: CONFIG_CHECK,
    head_sha: where.sha,
    status: 'completed',
    conclusion: 'failure',
    output: {
      title: `${CONFIG_PATH} is not valid`,
      summary: `${err.problems.map((p) => `- ${p}`).join('\n')}\n\n${text.split('\n').at(-1)}`,
    },
  });
}

/** Logs and drops a signed payload that lacks what the handler needs; GitHub gets a 200 and does not redeliver. */
export function malformed(app: GithubApp, context: Context, what: string): void {
  app.common.log.warn(
    { event: context.name, delivery: context.id },
    `malformed ${context.name} payload ignored: ${what}`,
  );
}
