// Reverts a confirmed culprit on GitHub: a merged pull request through the GraphQL `revertPullRequest`
// mutation, once. Before opening one it looks through the repository's newest pull requests for a
// revert of it (its marker, or GitHub's own "Reverts owner/repo#N"), so a retry after a crash finds the
// one it opened. Each guard that stops a revert is a comment on the culprit: the queue's
// (revert/plan.ts), the author's `OST-No-Revert: true`, and a permission the App lacks. With
// `revert.submit`, auto-merge is enabled on the revert; a refusal is said on the revert.
// A commit pushed past review has no pull request to revert: its notice gives `git revert`.
import type { RevertRequest, Reverter } from '../../engine/effects.ts';
import type { OctokitFor, RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { hiddenInMarkdown, verdictMarker } from '../../report/markers.ts';
import { NO_REVERT_FOOTER, noRevertNote, revertOpenedNote, revertReason } from '../../revert/message.ts';

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

interface GraphqlAnswer<T> {
  data?: T | null;
  errors?: { type?: string; message: string }[];
}

/** What a GraphQL answer with errors means for a revert: a refusal to post (a permission), or a throw. */
class GraphqlRefusal extends Error {}

async function graphql<T>(octokit: RequestOctokit, query: string, variables: Record<string, unknown>): Promise<T> {
  const res = await octokit.request('POST /graphql', { query, variables });
  const answer = res.data as GraphqlAnswer<T>;
  if (answer.errors?.length) {
    const message = answer.errors.map((e) => e.message).join('; ');
    // FORBIDDEN, a missing permission, an unprocessable state: GitHub will say the same again
    if (
      answer.errors.some(
        (e) => e.type === 'FORBIDDEN' || e.type === 'UNPROCESSABLE' || /not accessible/i.test(e.message),
      )
    )
      throw new GraphqlRefusal(message);
    throw new Error(`GitHub GraphQL: ${message}`);
  }
  return answer.data as T;
}

function split(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

export class GithubReverter implements Reverter {
  constructor(
    private readonly octokitFor: OctokitFor,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Comments on a pull request unless a comment with `marker` is there already. */
  private async sayOnce(octokit: RequestOctokit, repo: string, number: number, marker: string, body: string) {
    const r = split(repo);
    for (let page = 1; page <= 20; page++) {
      const res = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...r,
        issue_number: number,
        per_page: 100,
        page,
      });
      const comments = res.data as { body?: string }[];
      if (comments.some((c) => c.body?.includes(marker))) return;
      if (comments.length < 100) break;
    }
    await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...r,
      issue_number: number,
      body: `${body}\n\n${marker}`,
    });
  }

  async revert(request: RevertRequest): Promise<void> {
    const { queue, culprit, effect } = request;
    if (!culprit.number) {
      this.log.info(
        { queue, change: culprit.id },
        `no revert opened for ${culprit.sha.slice(0, 10)}: it was pushed without a pull request; revert it with git revert ${culprit.sha}`,
      );
      return;
    }
    const octokit = await this.octokitFor(culprit.project);
    const r = split(culprit.project);
    const marker = (what: string) => hiddenInMarkdown(verdictMarker(queue, culprit.id, what));
    const onCulprit = (body: string) => this.sayOnce(octokit, culprit.project, culprit.number!, marker('revert'), body);
    const refuse = async (reason: string) => {
      this.log.info({ queue, change: culprit.id, reason }, 'no revert opened');
      await onCulprit(noRevertNote(reason, culprit.sha));
    };
    if (effect.refused) return refuse(effect.refused);
    const existing = await this.existingRevert(octokit, culprit.project, culprit.number, marker('revert-of'));
    if (existing?.merged_at) return;
    if (existing) {
      await onCulprit(revertOpenedNote(existing.html_url, existing.body?.includes(marker('revert-of')) ?? false));
      const revert = { id: existing.node_id, number: existing.number };
      if (effect.submit) await this.autoMerge(octokit, culprit.project, revert, marker('revert-submit'));
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
    if (effect.submit) await this.autoMerge(octokit, culprit.project, opened, marker('revert-submit'));
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

  /** Enables auto-merge on the revert; a refusal is said on it (it then waits for a person). */
  private async autoMerge(
    octokit: RequestOctokit,
    repo: string,
    revert: { id: string; number: number },
    marker: string,
  ): Promise<void> {
    try {
      await graphql(octokit, AUTO_MERGE_MUTATION, { pullRequestId: revert.id });
    } catch (err) {
      if (!(err instanceof GraphqlRefusal)) throw err;
      await this.sayOnce(
        octokit,
        repo,
        revert.number,
        marker,
        `ost-gate could not let this revert merge itself: ${err.message}. Merge it by hand once its checks pass.`,
      );
    }
  }
}
