// What the GitHub reverter asks of GitHub, for a pull request and for a pushed commit alike: the
// GraphQL mutations (checked against GitHub's published schema in tests), a GraphQL call that tells a
// refusal from a failure, a comment posted once on a pull request or a commit, and auto-merge.
import type { RequestOctokit } from '../../ci/github-actions/dispatcher.ts';

/** The mutation that reverts a merged pull request (checked against GitHub's published schema in tests). */
export const REVERT_MUTATION = `mutation RevertPullRequest($pullRequestId: ID!, $title: String, $body: String) {
  revertPullRequest(input: { pullRequestId: $pullRequestId, title: $title, body: $body }) {
    revertPullRequest { id number url }
  }
}`;

/** The mutation that lets the revert merge itself once its checks pass. */
export const AUTO_MERGE_MUTATION = `mutation EnableAutoMerge($pullRequestId: ID!) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId }) {
    pullRequest { number }
  }
}`;

/** A GraphQL error as GitHub gives it (its `type`: FORBIDDEN, UNPROCESSABLE, NOT_FOUND, ...). */
interface GraphqlError {
  type?: string;
  message: string;
}

/** What a GraphQL answer with errors means for a revert: a refusal to post (a permission), or a throw. */
export class GraphqlRefusal extends Error {}

/** Sends a GraphQL request; an answer with errors throws, a `GraphqlRefusal` when GitHub would refuse again. */
export async function graphql<T>(
  octokit: RequestOctokit,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  try {
    return await octokit.graphql<T>(query, variables);
  } catch (err) {
    // @octokit/graphql's GraphqlResponseError carries the answer's errors; anything else (HTTP) is a failure
    const errors = (err as { errors?: GraphqlError[] }).errors;
    if (!Array.isArray(errors) || errors.length === 0) throw err;
    const message = errors.map((e) => e.message).join('; ');
    // FORBIDDEN, a missing permission, an unprocessable state: GitHub will say the same again
    if (errors.some((e) => e.type === 'FORBIDDEN' || e.type === 'UNPROCESSABLE' || /not accessible/i.test(e.message)))
      throw new GraphqlRefusal(message, { cause: err });
    throw new Error(`GitHub GraphQL: ${message}`, { cause: err });
  }
}

export function split(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

/** Where a note goes: a pull request's conversation, or a commit's comments (a direct push). */
export type NoteTarget = { number: number } | { sha: string };

/** Comments on a pull request or a commit unless a comment with `marker` is there already. */
export async function commentOnce(
  octokit: RequestOctokit,
  repo: string,
  on: NoteTarget,
  marker: string,
  body: string,
): Promise<void> {
  const r = split(repo);
  const where =
    'number' in on
      ? {
          list: 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
          post: 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
          params: { issue_number: on.number },
        }
      : {
          list: 'GET /repos/{owner}/{repo}/commits/{commit_sha}/comments',
          post: 'POST /repos/{owner}/{repo}/commits/{commit_sha}/comments',
          params: { commit_sha: on.sha },
        };
  for (let page = 1; page <= 20; page++) {
    const res = await octokit.request(where.list, { ...r, ...where.params, per_page: 100, page });
    const comments = res.data as { body?: string }[];
    if (comments.some((c) => c.body?.includes(marker))) return;
    if (comments.length < 100) break;
  }
  await octokit.request(where.post, { ...r, ...where.params, body: `${body}\n\n${marker}` });
}

/** Enables auto-merge on a revert; a refusal is said on it (it then waits for a person). */
export async function autoMerge(
  octokit: RequestOctokit,
  repo: string,
  revert: { id: string; number: number },
  marker: string,
): Promise<void> {
  try {
    await graphql(octokit, AUTO_MERGE_MUTATION, { pullRequestId: revert.id });
  } catch (err) {
    if (!(err instanceof GraphqlRefusal)) throw err;
    await commentOnce(
      octokit,
      repo,
      { number: revert.number },
      marker,
      `ost-gate could not let this revert merge itself: ${err.message}. Merge it by hand once its checks pass.`,
    );
  }
}
