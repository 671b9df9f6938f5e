// Reverting a confirmed culprit on GitHub, against a stand-in for its REST and GraphQL APIs (every
// request and answer checked against GitHub's OpenAPI description and GraphQL schema by the guard):
// one revert through `revertPullRequest`, found again after a crash instead of opened twice; each guard
// a comment on the culprit; auto-merge asked with revert.submit, a refusal said on the revert.
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { octokitForTests, REPO } from '../helpers/github.ts';
import { documentedAnswer } from '../helpers/github-spec.ts';
import { commitComment, issueComment, pullRequest } from '../helpers/github-answers.ts';
import { AUTO_MERGE_MUTATION, GithubReverter, REVERT_MUTATION } from '../../src/hosts/github/revert.ts';
import { graphqlProblems } from '../helpers/github-graphql.ts';
import type { RevertRequest } from '../../src/engine/effects.ts';

offline();

const MERGE_SHA = 'd'.repeat(40);
const GHE = 'http://ghe.example.org';

/** A GitHub with pull request #3 merged, its comments, and the pull requests GraphQL opens. */
function standIn(
  opts: { body?: string; mergeMessage?: string; forbidden?: boolean; noAutoMerge?: boolean; ghe?: boolean } = {},
) {
  const comments = new Map<number, string[]>();
  const pulls: Record<string, unknown>[] = [];
  const graphqlCalls: string[] = [];
  let failNextComment = false;
  // GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql
  const api = nock(opts.ghe ? GHE : 'https://api.github.com').persist();
  const rest = opts.ghe ? '/api/v3' : '';
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
  api.get(`${rest}/repos/${REPO}/pulls/3`).reply(200, () =>
    pullRequest({
      number: 3,
      node_id: 'PR_kwDOA3',
      title: 'PR 3',
      body: opts.body ?? 'Adds a thing',
      merge_commit_sha: MERGE_SHA,
    }),
  );
  api.get(`${rest}/repos/${REPO}/git/commits/${MERGE_SHA}`).reply(200, () =>
    documentedAnswer('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', 200, {
      sha: MERGE_SHA,
      message: opts.mergeMessage ?? 'Merge pull request #3\n\nAdds a thing',
    }),
  );
  api
    .get(`${rest}/repos/${REPO}/pulls`)
    .query(true)
    .reply(200, () => pulls);
  api.post(opts.ghe ? '/api/graphql' : '/graphql').reply((_uri, body) => {
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

  it('sends GraphQL to /api/graphql on GitHub Enterprise Server, not under the REST API', async () => {
    const gh = standIn({ ghe: true });
    const onGhe = new GithubReverter(
      async () => new octokitForTests({ auth: 'test-token', baseUrl: `${GHE}/api/v3` }) as never,
    );
    await onGhe.revert(request());
    expect(gh.graphqlCalls).toEqual(['revertPullRequest']);
    expect(gh.comments.get(3)).toEqual([expect.stringMatching(/^ost-gate opened a revert of this change/)]);
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

describe('the GitHub reverter, for a commit pushed without a pull request', () => {
  const C = 'c'.repeat(40);
  const P = 'b'.repeat(40);
  const TIP = 'e'.repeat(40);

  /** A repository where C (on P) was pushed to main, and main is at TIP now. */
  function pushedStandIn(opts: { conflict?: boolean; failFirstMerge?: boolean; message?: string } = {}) {
    const calls: string[] = [];
    const commitComments: string[] = [];
    const pulls: Record<string, unknown>[] = [];
    const refs = new Set<string>();
    let merges = 0;
    const api = nock('https://api.github.com').persist();
    api.on('request', (req: { method: string; path: string }) =>
      calls.push(`${req.method} ${decodeURIComponent(req.path.split('?')[0]!)}`),
    );
    api
      .get(`/repos/${REPO}/pulls`)
      .query(true)
      .reply(200, () => pulls);
    api.get(`/repos/${REPO}/git/commits/${C}`).reply(200, () =>
      documentedAnswer('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', 200, {
        sha: C,
        message: opts.message ?? 'Pushed straight to main',
        parents: [
          {
            sha: P,
            url: `https://api.github.com/repos/${REPO}/git/commits/${P}`,
            html_url: `https://github.com/${REPO}/commit/${P}`,
          },
        ],
      }),
    );
    api.get(`/repos/${REPO}/git/commits/${P}`).reply(200, () =>
      documentedAnswer('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', 200, {
        sha: P,
        tree: { sha: 'f'.repeat(40), url: `https://api.github.com/repos/${REPO}/git/trees/${'f'.repeat(40)}` },
      }),
    );
    let posted: { tree: string; parents: string[]; message: string } | null = null;
    api.post(`/repos/${REPO}/git/commits`).reply((_uri, body) => {
      posted = body as typeof posted;
      return [201, documentedAnswer('POST /repos/{owner}/{repo}/git/commits', 201, { sha: '9'.repeat(40) })];
    });
    api.get(/\/repos\/Codertocat\/Hello-World\/git\/ref\/heads(%2F|\/)main$/).reply(200, () =>
      documentedAnswer('GET /repos/{owner}/{repo}/git/ref/{ref}', 200, {
        ref: 'refs/heads/main',
        object: { type: 'commit', sha: TIP, url: `https://api.github.com/repos/${REPO}/git/commits/${TIP}` },
      }),
    );
    api.post(`/repos/${REPO}/git/refs`).reply((_uri, body) => {
      const { ref } = body as { ref: string };
      if (refs.has(ref))
        return [
          422,
          {
            message: 'Reference already exists',
            documentation_url: 'https://docs.github.com/rest/git/refs#create-a-reference',
          },
        ];
      refs.add(ref);
      return [201, documentedAnswer('POST /repos/{owner}/{repo}/git/refs', 201, { ref })];
    });
    api.post(`/repos/${REPO}/merges`).reply(() => {
      merges++;
      if (opts.conflict) return [409, ''];
      if (opts.failFirstMerge && merges === 1) return [502, { message: 'Server Error' }];
      return [201, documentedAnswer('POST /repos/{owner}/{repo}/merges', 201, { files: [] })];
    });
    api.post(`/repos/${REPO}/pulls`).reply((_uri, body) => {
      const b = body as { title: string; head: string; base: string; body: string };
      const pr = pullRequest({
        number: 20,
        node_id: 'PR_kwDOA20',
        html_url: `https://github.com/${REPO}/pull/20`,
        title: b.title,
        body: b.body,
        state: 'open',
        merged: false,
        merged_at: null,
      });
      pulls.push(pr);
      return [201, pr];
    });
    api
      .get(`/repos/${REPO}/commits/${C}/comments`)
      .query(true)
      .reply(200, () => commitComments.map((body, i) => commitComment({ id: i + 1, body })));
    api.post(`/repos/${REPO}/commits/${C}/comments`).reply((_uri, body) => {
      commitComments.push((body as { body: string }).body);
      return [201, commitComment({ id: commitComments.length, body: (body as { body: string }).body })];
    });
    return { calls, commitComments, pulls, posted: () => posted };
  }

  const pushed = (): RevertRequest => {
    const r = request();
    return {
      ...r,
      culprit: { ...r.culprit, id: `github:${REPO}@${C}`, number: null, sha: C, title: 'Pushed straight to main' },
      effect: { ...r.effect, change: `github:${REPO}@${C}` },
    };
  };

  it("undoes it on a branch at main's tip through the git data API and opens a pull request, once", async () => {
    const gh = pushedStandIn();
    await reverter.revert(pushed());
    // a commit on top of the culprit with its parent's tree, merged into a branch made at the tip
    expect(gh.posted()).toMatchObject({ tree: 'f'.repeat(40), parents: [C] });
    expect(gh.posted()!.message).toMatch(
      new RegExp(`^Revert "Pushed straight to main"\\n\\nThis reverts commit ${C}\\.`),
    );
    expect(gh.calls.filter((c) => c.startsWith('POST'))).toEqual([
      `POST /repos/${REPO}/git/commits`,
      `POST /repos/${REPO}/git/refs`,
      `POST /repos/${REPO}/merges`,
      `POST /repos/${REPO}/pulls`,
      `POST /repos/${REPO}/commits/${C}/comments`,
    ]);
    expect(gh.commitComments[0]).toMatch(
      new RegExp(`^ost-gate opened a revert of this change: https://github.com/${REPO}/pull/20`),
    );
    await reverter.revert(pushed());
    expect(gh.calls.filter((c) => c === `POST /repos/${REPO}/pulls`)).toHaveLength(1);
    expect(gh.commitComments).toHaveLength(1);
  });

  it('takes every step again after a crash without a second branch or pull request', async () => {
    const gh = pushedStandIn({ failFirstMerge: true });
    await expect(reverter.revert(pushed())).rejects.toThrow();
    await reverter.revert(pushed());
    expect(gh.calls.filter((c) => c === `POST /repos/${REPO}/git/refs`)).toHaveLength(2);
    expect(gh.pulls).toHaveLength(1);
    expect(gh.commitComments).toHaveLength(1);
  });

  it('says on the commit when undoing it conflicts with later changes, or its author opted out', async () => {
    const conflict = pushedStandIn({ conflict: true });
    await reverter.revert(pushed());
    expect(conflict.commitComments[0]).toContain('undoing it conflicts with the changes merged after it');
    expect(conflict.pulls).toEqual([]);
    nock.cleanAll();
    const optOut = pushedStandIn({ message: 'Pushed\n\nOST-No-Revert: true' });
    await reverter.revert(pushed());
    expect(optOut.commitComments[0]).toContain('its author opted out');
    expect(optOut.calls.filter((c) => c.startsWith('POST /repos/Codertocat/Hello-World/git'))).toEqual([]);
  });
});
