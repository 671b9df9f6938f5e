// Reverts a confirmed culprit on GitHub: a merged pull request through the GraphQL `revertPullRequest`
// mutation, once. Before opening one it looks through the repository's newest pull requests for a
// revert of it (its marker, or GitHub's own "Reverts owner/repo#N"), so a retry after a crash finds the
// one it opened. Each guard that stops a revert is a comment on the culprit: the queue's
// (revert/plan.ts), the author's `OST-No-Revert: true`, and a permission the App lacks. With
// `revert.submit`, auto-merge is enabled on the revert; a refusal is said on the revert. A commit
// pushed without a pull request is reverted through the git data API (revert-push.ts).
import type { RevertRequest, Reverter } from '../../engine/effects.ts';
import type { OctokitFor, RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import { revertPushedCommit } from './revert-push.ts';
import { autoMerge, commentOnce, graphql, GraphqlRefusal, REVERT_MUTATION, split } from './revert-api.ts';

export { AUTO_MERGE_MUTATION, REVERT_MUTATION } from './revert-api.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { hiddenInMarkdown, verdictMarker } from '../../report/markers.ts';
import { NO_REVERT_FOOTER, noRevertNote, revertOpenedNote, revertReason } from '../../revert/message.ts';

interface PullRequest {
  number: number;
  node_id: string;
  title: string;
  body: string | null;
  html_url: string;
  state: 'open' | 'closed';
  merged_at: string | null;
  merge_commit_sha: string | null;
}

export class GithubReverter implements Reverter {
  constructor(
    private readonly octokitFor: OctokitFor,
    private readonly log: Logger = silentLogger,
  ) {}

  async revert(request: RevertRequest): Promise<void> {
    const { queue, culprit, effect } = request;
    const octokit = await this.octokitFor(culprit.project);
    const r = split(culprit.project);
    const marker = (what: string) => hiddenInMarkdown(verdictMarker(queue, culprit.id, what));
    // a pull request's conversation, or for a commit pushed without one its comments
    const on = culprit.number ? { number: culprit.number } : { sha: culprit.sha };
    const onCulprit = (body: string) => commentOnce(octokit, culprit.project, on, marker('revert'), body);
    const refuse = async (reason: string) => {
      this.log.info({ queue, change: culprit.id, reason }, 'no revert opened');
      await onCulprit(noRevertNote(reason, culprit.sha));
    };
    if (effect.refused) return refuse(effect.refused);
    if (!culprit.number) {
      const pushed = await revertPushedCommit(octokit, request);
      if ('refused' in pushed) return refuse(pushed.refused);
      if (pushed.merged) return;
      await onCulprit(revertOpenedNote(pushed.opened.url, pushed.byBot));
      this.log.info({ queue, change: culprit.id, revert: pushed.opened.number }, 'revert opened');
      if (effect.submit) await autoMerge(octokit, culprit.project, pushed.opened, marker('revert-submit'));
      return;
    }
    const existing = await this.existingRevert(octokit, culprit.project, culprit.number, marker('revert-of'));
    if (existing?.merged_at) return;
    if (existing) {
      await onCulprit(revertOpenedNote(existing.html_url, existing.body?.includes(marker('revert-of')) ?? false));
      const revert = { id: existing.node_id, number: existing.number };
      if (effect.submit) await autoMerge(octokit, culprit.project, revert, marker('revert-submit'));
      return;
    }
    const pr = (
      await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...r, pull_number: culprit.number })
    ).data as PullRequest;
    if (NO_REVERT_FOOTER.test(pr.body ?? '') || (await this.mergeMessageOptsOut(octokit, culprit.project, pr)))
      return refuse('its author opted out with "OST-No-Revert: true"');
    let opened: { id: string; number: number; url: string };
    try {
      const data = await graphql<{
        revertPullRequest: { revertPullRequest: { id: string; number: number; url: string } };
      }>(octokit, REVERT_MUTATION, {
        pullRequestId: pr.node_id,
        title: `Revert "${pr.title}"`,
        body: `Reverts ${culprit.project}#${culprit.number}\n\n${revertReason(request)}\n\n${marker('revert-of')}`,
      });
      opened = data.revertPullRequest.revertPullRequest;
    } catch (err) {
      if (!(err instanceof GraphqlRefusal)) throw err;
      return refuse(`GitHub refused the revert (the App needs contents and pull requests write): ${err.message}`);
    }
    await onCulprit(revertOpenedNote(opened.url, true));
    this.log.info({ queue, change: culprit.id, revert: opened.number }, 'revert opened');
    if (effect.submit) await autoMerge(octokit, culprit.project, opened, marker('revert-submit'));
  }

  /** The newest pull request that reverts #`number`: ours by its marker, or one GitHub's button made. */
  private async existingRevert(octokit: RequestOctokit, repo: string, number: number, marker: string) {
    const res = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
      ...split(repo),
      state: 'all',
      sort: 'created',
      direction: 'desc',
      per_page: 100,
    });
    const reverts = new RegExp(`^Reverts ${repo.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}#${number}\\b`);
    return (res.data as PullRequest[]).find((p) => p.body?.includes(marker) || reverts.test(p.body ?? '')) ?? null;
  }

  /** Whether the merge (or squash) commit's message carries the opt-out footer. */
  private async mergeMessageOptsOut(octokit: RequestOctokit, repo: string, pr: PullRequest): Promise<boolean> {
    if (!pr.merge_commit_sha) return false;
    const res = await octokit.request('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', {
      ...split(repo),
      commit_sha: pr.merge_commit_sha,
    });
    return NO_REVERT_FOOTER.test((res.data as { message?: string }).message ?? '');
  }
}
