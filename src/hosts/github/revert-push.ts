// Reverts a commit pushed to a GitHub branch without a pull request, through the git data API, as a
// pull request from the branch `ost-gate/revert-<short sha>`: a commit on top of the culprit with its
// parent's tree (the culprit undone), merged by GitHub into a branch made at the current tip (a
// three-way merge whose base is the culprit, so it takes out only the culprit's changes), then a pull
// request. Every step can be taken again after a crash: an existing branch is reused, a merge done
// already answers 204, an existing pull request is found by its branch. A conflict with later
// changes is a reason posted on the culprit.
import type { RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import type { RevertRequest } from '../../engine/effects.ts';
import { NO_REVERT_FOOTER, revertCommitMessage, revertReason } from '../../revert/message.ts';
import { split } from './revert-api.ts';

interface GitCommit {
  sha: string;
  message: string;
  tree: { sha: string };
  parents: { sha: string }[];
}

/** What reverting a pushed commit came to: a pull request (new or found), or why there is none. */
export type PushRevert =
  { opened: { id: string; number: number; url: string }; byBot: boolean; merged: boolean } | { refused: string };

export function revertBranch(sha: string): string {
  return `ost-gate/revert-${sha.slice(0, 12)}`;
}

function status(err: unknown): number | undefined {
  return (err as { status?: number }).status;
}

export async function revertPushedCommit(octokit: RequestOctokit, request: RevertRequest): Promise<PushRevert> {
  const { culprit } = request;
  const r = split(culprit.project);
  const branch = revertBranch(culprit.sha);
  const found = (
    await octokit.request('GET /repos/{owner}/{repo}/pulls', { ...r, state: 'all', head: `${r.owner}:${branch}` })
  ).data as { node_id: string; number: number; html_url: string; merged_at: string | null }[];
  if (found[0])
    return {
      opened: { id: found[0].node_id, number: found[0].number, url: found[0].html_url },
      byBot: true,
      merged: !!found[0].merged_at,
    };
  const commit = (
    await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...r, commit_sha: culprit.sha })
  ).data as GitCommit;
  if (NO_REVERT_FOOTER.test(commit.message)) return { refused: 'its author opted out with "OST-No-Revert: true"' };
  const parent = commit.parents[0]?.sha;
  if (!parent) return { refused: 'it is the first commit of the repository' };
  const parentTree = (
    (await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { ...r, commit_sha: parent }))
      .data as GitCommit
  ).tree.sha;
  const undo = (
    await octokit.request('POST /repos/{owner}/{repo}/git/commits', {
      ...r,
      message: revertCommitMessage(request),
      tree: parentTree,
      parents: [culprit.sha],
    })
  ).data as GitCommit;
  const tip = (
    (await octokit.request('GET /repos/{owner}/{repo}/git/ref/{ref}', { ...r, ref: `heads/${culprit.branch}` }))
      .data as {
      object: { sha: string };
    }
  ).object.sha;
  try {
    await octokit.request('POST /repos/{owner}/{repo}/git/refs', { ...r, ref: `refs/heads/${branch}`, sha: tip });
  } catch (err) {
    // made before a crash: the merge below is taken again on it
    if (status(err) !== 422) throw err;
  }
  try {
    await octokit.request('POST /repos/{owner}/{repo}/merges', {
      ...r,
      base: branch,
      head: undo.sha,
      commit_message: `Revert ${culprit.sha.slice(0, 12)} on top of ${culprit.branch}`,
    });
  } catch (err) {
    if (status(err) === 409)
      return {
        refused: `undoing it conflicts with the changes merged after it (the branch ${branch} is left as it was)`,
      };
    throw err;
  }
  const pr = (
    await octokit.request('POST /repos/{owner}/{repo}/pulls', {
      ...r,
      title: `Revert "${culprit.title}"`,
      head: branch,
      base: culprit.branch,
      body: `Reverts ${culprit.sha}\n\n${revertReason(request)}`,
    })
  ).data as { node_id: string; number: number; html_url: string };
  return { opened: { id: pr.node_id, number: pr.number, url: pr.html_url }, byBot: true, merged: false };
}
