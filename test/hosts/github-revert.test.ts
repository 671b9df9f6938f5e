// Reverting a confirmed culprit on GitHub, against a stand-in for its REST and GraphQL APIs (every
// request and answer checked against GitHub's OpenAPI description and GraphQL schema by the guard):
// one revert through `revertPullRequest`, found again after a crash instead of opened twice; each guard
// a comment on the culprit; auto-merge asked with revert.submit, a refusal said on the revert.
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { octokitForTests, REPO } from '../helpers/github.ts';
import { documentedAnswer } from '../helpers/github-spec.ts';
import { issueComment, pullRequest } from '../helpers/github-answers.ts';
import { AUTO_MERGE_MUTATION, GithubReverter, REVERT_MUTATION } from '../../src/hosts/github/revert.ts';
import { graphqlProblems } from '../helpers/github-graphql.ts';
import type { RevertRequest } from '../../src/engine/effects.ts';

offline();

const MERGE_SHA = 'd'.repeat(40);

/** A GitHub with pull request #3 merged, its comments, and the pull requests GraphQL opens. */
function standIn(opts: { body?: string; mergeMessage?: string; forbidden?: boolean; noAutoMerge?: boolean } = {}) {
  const comments = new Map<number, string[]>();
  const pulls: Record<string, unknown>[] = [];
  const graphqlCalls: string[] = [];
  let failNextComment = false;
  const api = nock('https://api.github.com').persist();
  api.get(/\/repos\/Codertocat\/Hello-World\/issues\/(\d+)\/comments/).reply((uri) => {
    const n = Number(/issues\/(\d+)\//.exec(uri)![1]);
    return [200, (comments.get(n) ?? []).map((body, i) => issueComment({ id: n * 100 + i, body }))];
  });
  api.post(/\/repos\/Codertocat\/Hello-World\/issues\/(\d+)\/comments/).reply((uri, body) => {
    if (failNextComment) {
      failNextComment = false;
      return [502, { message: 'Server Error' }];
    }
    const n = Number(/issues\/(\d+)\//.exec(uri)![1]);
    const text = (body as { body: string }).body;
    comments.set(n, [...(comments.get(n) ?? []), text]);
    return [201, issueComment({ id: n * 100 + comments.get(n)!.length, body: text })];
  });
  api.get(`/repos/${REPO}/pulls/3`).reply(200, () =>
    pullRequest({
      number: 3,
      node_id: 'PR_kwDOA3',
      title: 'PR 3',
      body: opts.body ?? 'Adds a thing',
      merge_commit_sha: MERGE_SHA,
    }),
  );
  api.get(`/repos/${REPO}/git/commits/${MERGE_SHA}`).reply(200, () =>
    documentedAnswer('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', 200, {
      sha: MERGE_SHA,
      message: opts.mergeMessage ?? 'Merge pull request #3\n\nAdds a thing',
    }),
  );
  api
    .get(`/repos/${REPO}/pulls`)
    .query(true)
    .reply(200, () => pulls);
  api.post('/graphql').reply((_uri, body) => {
    const { query, variables } = body as { query: string; variables: Record<string, string> };
    graphqlCalls.push(query.includes('revertPullRequest') ? 'revertPullRequest' : 'enablePullRequestAutoMerge');
    if (query.includes('revertPullRequest')) {
      if (opts.forbidden)
        return [
          200,
          {
            data: { revertPullRequest: null },
            errors: [{ type: 'FORBIDDEN', message: 'Resource not accessible by integration' }],
          },
        ];
      const number = 10 + pulls.length;
      pulls.unshift(
        pullRequest({
          number,
          node_id: `PR_kwDOA${number}`,
          title: variables.title,
          body: variables.body,
          state: 'open',
          merged: false,
          merged_at: null,
        }),
      );
      return [
        200,
        {
          data: {
            revertPullRequest: {
              revertPullRequest: { id: `PR_kwDOA${number}`, number, url: `https://github.com/${REPO}/pull/${number}` },
            },
          },
        },
      ];
    }
    if (opts.noAutoMerge)
      return [
        200,
        {
          data: { enablePullRequestAutoMerge: null },
          errors: [{ type: 'UNPROCESSABLE', message: 'Auto merge is not allowed for this repository' }],
        },
      ];
    return [200, { data: { enablePullRequestAutoMerge: { pullRequest: { number: 10 } } } }];
  });
  return {
    comments,
    pulls,
    graphqlCalls,
    failNextComment: () => (failNextComment = true),
  };
}

const reverter = new GithubReverter(async () => new octokitForTests({ auth: 'test-token' }) as never);
const request = (refused?: string, submit = false): RevertRequest => ({
  queue: `github:${REPO}@main`,
  culprit: {
    id: `github:${REPO}#3`,
    host: 'github',
    project: REPO,
    branch: 'main',
    sha: 'c'.repeat(40),
    number: 3,
    title: 'PR 3',
  },
  effect: {
    type: 'revert',
    change: `github:${REPO}#3`,
    confidence: 0.99995,
    evidence: [
      { key: 'q.5-abc', end: `github:${REPO}#3`, result: 'failed', url: `https://github.com/${REPO}/actions/runs/5` },
    ],
    submit,
    ...(refused ? { refused } : {}),
  },
  pageUrl: null,
});

describe("GitHub's GraphQL schema, as the guard reads it", () => {
  it('takes the mutations ost-gate sends, and finds a wrong field, variable or answer', () => {
    const ok = { data: { revertPullRequest: { revertPullRequest: { id: 'PR_1', number: 1, url: 'https://x' } } } };
    expect(graphqlProblems({ query: REVERT_MUTATION, variables: { pullRequestId: 'PR_1' } }, ok)).toEqual([]);
    expect(
      graphqlProblems({ query: AUTO_MERGE_MUTATION, variables: { pullRequestId: 'PR_1' } }, { data: null }),
    ).toEqual([]);
    expect(graphqlProblems({ query: REVERT_MUTATION.replace('url', 'link'), variables: {} }, ok)).toEqual([
      expect.stringContaining('Cannot query field "link" on type "PullRequest"'),
    ]);
    expect(graphqlProblems({ query: REVERT_MUTATION, variables: {} }, ok)).toEqual([
      expect.stringContaining('Variable "$pullRequestId" of required type "ID!" was not provided'),
    ]);
    const wrong = {
      data: { revertPullRequest: { revertPullRequest: { id: 'PR_1', number: 'one', url: 'https://x' } } },
    };
    expect(graphqlProblems({ query: REVERT_MUTATION, variables: { pullRequestId: 'PR_1' } }, wrong)).toEqual([
      expect.stringContaining('Int cannot represent non-integer value: "one"'),
    ]);
  });
});

describe('the GitHub reverter', () => {
  it('opens one revert through revertPullRequest, with the evidence, and says so on the culprit', async () => {
    const gh = standIn();
    await reverter.revert(request());
    expect(gh.graphqlCalls).toEqual(['revertPullRequest']);
    const revert = gh.pulls[0] as { title: string; body: string };
    expect(revert.title).toBe('Revert "PR 3"');
    expect(revert.body).toMatch(
      new RegExp(`^Reverts ${REPO}#3\\n\\nost-gate found this change to break the system tests`),
    );
    expect(revert.body).toContain(
      `- failed run q.5-abc up to github:${REPO}#3: https://github.com/${REPO}/actions/runs/5`,
    );
    expect(gh.comments.get(3)).toEqual([
      expect.stringMatching(new RegExp(`^ost-gate opened a revert of this change: https://github.com/${REPO}/pull/10`)),
    ]);
    // asked again (a redelivered effect), nothing new happens
    await reverter.revert(request());
    expect(gh.graphqlCalls).toEqual(['revertPullRequest']);
    expect(gh.comments.get(3)).toHaveLength(1);
  });

  it('finds the revert it opened before a crash instead of opening another', async () => {
    const gh = standIn();
    gh.failNextComment();
    await expect(reverter.revert(request())).rejects.toThrow();
    await reverter.revert(request());
    expect(gh.graphqlCalls).toEqual(['revertPullRequest']);
    expect(gh.comments.get(3)).toEqual([expect.stringMatching(/^ost-gate opened a revert of this change/)]);
  });

  it('posts the reason when a guard stops it: the queue, the opt-out in the body or the merge commit, a permission', async () => {
    const queue = standIn();
    await reverter.revert(request('it merged 30 h ago, longer than revert.max_age (24 h)'));
    expect(queue.comments.get(3)![0]).toMatch(/^ost-gate did not open a revert of this change: it merged 30 h ago/);
    nock.cleanAll();
    const body = standIn({ body: 'Risky\n\nOST-No-Revert: true' });
    await reverter.revert(request());
    expect(body.comments.get(3)![0]).toContain('its author opted out with "OST-No-Revert: true"');
    nock.cleanAll();
    const merge = standIn({ mergeMessage: 'Squashed (#3)\n\nOST-No-Revert: true' });
    await reverter.revert(request());
    expect(merge.graphqlCalls).toEqual([]);
    nock.cleanAll();
    const forbidden = standIn({ forbidden: true });
    await reverter.revert(request());
    expect(forbidden.comments.get(3)![0]).toContain(
      'GitHub refused the revert (the App needs contents and pull requests write): Resource not accessible by integration',
    );
    expect(forbidden.pulls).toEqual([]);
  });

  it('points to a revert someone opened, and does nothing once one merged', async () => {
    const gh = standIn();
    gh.pulls.push(
      pullRequest({
        number: 7,
        html_url: `https://github.com/${REPO}/pull/7`,
        body: `Reverts ${REPO}#3`,
        state: 'open',
        merged: false,
        merged_at: null,
      }),
    );
    await reverter.revert(request());
    expect(gh.graphqlCalls).toEqual([]);
    expect(gh.comments.get(3)![0]).toMatch(
      /^A revert of this change is already open: .*\/pull\/7\. ost-gate did not open another\./,
    );
    (gh.pulls[0] as Record<string, unknown>).merged_at = '2026-12-01T10:00:00Z';
    gh.comments.clear();
    await reverter.revert(request());
    expect(gh.comments.size).toBe(0);
  });

  it('asks for auto-merge with revert.submit, and says on the revert when GitHub refuses it', async () => {
    const gh = standIn();
    await reverter.revert(request(undefined, true));
    expect(gh.graphqlCalls).toEqual(['revertPullRequest', 'enablePullRequestAutoMerge']);
    nock.cleanAll();
    const refused = standIn({ noAutoMerge: true });
    await reverter.revert(request(undefined, true));
    expect(refused.comments.get(10)![0]).toContain(
      'ost-gate could not let this revert merge itself: Auto merge is not allowed for this repository',
    );
  });
});
