// Finds ost-gate's own comment on a change again by a marker it carries: a pull request's comments, or
// a commit's for a change pushed without one.
import type { RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import type { ChangeTarget } from '../../report/model.ts';
import { ownerAndName } from './repository.ts';

/** The id of the change's comment that contains `needle` (a PR comment, or a commit comment for a direct push). */
export async function findComment(
  octokit: RequestOctokit,
  change: Pick<ChangeTarget, 'project' | 'number' | 'sha'>,
  needle: string,
): Promise<number | null> {
  const r = ownerAndName(change.project);
  for (let page = 1; page <= 20; page++) {
    const res = change.number
      ? await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          ...r,
          issue_number: change.number,
          per_page: 100,
          page,
        })
      : await octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/comments', {
          ...r,
          commit_sha: change.sha,
          per_page: 100,
          page,
        });
    const comments = res.data as { id: number; body?: string }[];
    const hit = comments.find((c) => c.body?.includes(needle));
    if (hit) return hit.id;
    if (comments.length < 100) return null;
  }
  return null;
}
