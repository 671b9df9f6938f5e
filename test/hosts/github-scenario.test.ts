// The GitHub path end to end through probot.receive: five PRs merged by a push, the batch run fails,
// bisection dispatches the expected prefixes, workflow_run results come in, and the culprit and
// blocked comments and the check runs land on the right PRs.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { checkRunsStandIn, issueComment, pullRequest } from '../helpers/github-answers.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

const CONFIG =
  'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 2\nbranches: [main]\nflaky:\n  confirm: 0\n  confidence: 0\n';
const sha = (i: number) => `${String(i).repeat(40)}`.slice(0, 40);

offline();

describe('GitHub scenario', () => {
  it('bisects five merged PRs to the culprit and comments on it and on the PRs it blocks', async () => {
    const bed = await githubBed(CONFIG);
    let runId = 5000;
    bed.api.post('/repos/Codertocat/Hello-World/actions/workflows/ost.yml/dispatches').reply(200, () => ({
      workflow_run_id: ++runId,
      run_url: `https://api.github.com/repos/${REPO}/actions/runs/${runId}`,
      html_url: `https://github.com/${REPO}/actions/runs/${runId}`,
    }));
    const checkRuns = checkRunsStandIn(bed.api);
    bed.api.get(/\/repos\/Codertocat\/Hello-World\/issues\/\d+\/comments/).reply(200, []);
    bed.api.post(/\/repos\/Codertocat\/Hello-World\/issues\/\d+\/comments/).reply(201, issueComment({ id: 1 }));
    for (const n of [4, 5])
      bed.api
        .get(`/repos/Codertocat/Hello-World/pulls/${n}`)
        .reply(200, pullRequest({ number: n, title: `PR ${n}`, html_url: `https://github.com/${REPO}/pull/${n}` }));

    // PRs 1-3 announce themselves with pull_request.closed; 4 and 5 are found through the API
    for (const n of [1, 2, 3]) {
      const closed = example<Record<string, any>>('pull_request', (e) => e.action === 'closed');
      closed.pull_request = {
        ...closed.pull_request,
        number: n,
        title: `PR ${n}`,
        merged: true,
        merge_commit_sha: sha(n),
        html_url: `https://github.com/${REPO}/pull/${n}`,
        body: n === 3 ? 'risky change' : null,
      };
      closed.installation = { id: INSTALLATION };
      await bed.receive('pull_request', closed);
    }
    await bed.receive(
      'push',
      pushPayload(
        '0'.repeat(40),
        [1, 2, 3, 4, 5].map((n) => ({ id: sha(n), message: `Merge pull request #${n} from dev/feature-${n}` })),
      ),
    );

    const dispatches = () => bed.sent.filter((s) => s.path.endsWith('/dispatches'));
    const refsOf = (d: { body: Record<string, unknown> }): string =>
      JSON.parse((d.body.inputs as Record<string, string>).ost_refs ?? '{}')[REPO];
    expect(dispatches().map(refsOf)).toEqual([sha(5)]);
    const first = dispatches()[0]!.body as { ref: string; return_run_details: boolean; inputs: Record<string, string> };
    expect(first).toMatchObject({ ref: 'main', return_run_details: true });
    expect(JSON.parse(first.inputs.ost_changes!)).toEqual([1, 2, 3, 4, 5].map((n) => `github:${REPO}#${n}`));
    expect(
      bed.sent
        .filter((s) => s.method === 'POST' && s.path.endsWith('/check-runs') && s.body.status === 'queued')
        .map((s) => s.body.head_sha),
    ).toEqual([1, 2, 3, 4, 5].map(sha));
    // every change of the batch shows that it is under test, linking the workflow run
    expect(checkRuns.map((c) => [c.head_sha, c.status, c.details_url])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [sha(n), 'in_progress', `https://github.com/${REPO}/actions/runs/5001`]),
    );

    // the CI: a prefix fails when it holds PR 3
    const complete = async (n: number) => {
      const d = dispatches()[n - 1]!;

      const ref = refsOf(d) as string;
      const fails = ['3', '4', '5'].includes(ref[0]!);
      const wr = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
      wr.workflow_run = {
        ...wr.workflow_run,
        id: 5000 + n,
        display_title: `OST ${(d.body.inputs as Record<string, string>).ost_key}`,
        conclusion: fails ? 'failure' : 'success',
        html_url: `https://github.com/${REPO}/actions/runs/${5000 + n}`,
      };
      wr.installation = { id: INSTALLATION };
      await bed.receive('workflow_run', wr);
    };
    await complete(1);
    // k = 2: probes split the five candidates into three groups, ending at PR 2 and PR 4
    expect(dispatches().slice(1).map(refsOf).sort()).toEqual([sha(2), sha(4)]);
    await complete(2);
    await complete(3);
    // PR 2 passed and PR 4 failed: PR 3 is probed alone
    expect(dispatches().slice(3).map(refsOf)).toEqual([sha(3)]);
    await complete(4);

    const comments = bed.sent.filter((s) => s.method === 'POST' && /\/issues\/\d+\/comments$/.test(s.path));
    const byPr = Object.fromEntries(
      comments.map((c) => [Number(/issues\/(\d+)/.exec(c.path)![1]), String(c.body.body)]),
    );
    expect(Object.keys(byPr).map(Number).sort()).toEqual([3, 4, 5]);
    expect(byPr[3]).toMatch(/^### ost-gate: culprit/);
    expect(byPr[3]).toContain(`<!-- ost-gate:github:${REPO}@main:github:${REPO}#3:culprit -->`);
    expect(byPr[3]).toContain('/ost not-culprit');
    expect(byPr[3]).toMatch(/Blocked by it: .*#4.*#5/);
    expect(byPr[4]).toMatch(/^### ost-gate: blocked/);
    expect(byPr[4]).toContain('PR 3');
    // one "ost-gate" check run per commit, created when queued and updated (PATCH) from then on
    expect(bed.sent.filter((s) => s.method === 'PATCH' && /\/check-runs\/\d+$/.test(s.path)).length).toBeGreaterThan(5);
    expect(checkRuns.map((c) => [c.head_sha, c.status, c.conclusion]).sort()).toEqual([
      [sha(1), 'completed', 'success'],
      [sha(2), 'completed', 'success'],
      [sha(3), 'completed', 'failure'],
      [sha(4), 'completed', 'neutral'],
      [sha(5), 'completed', 'neutral'],
    ]);
    const file = (await readQueue(bed.store, `github:${REPO}@main`))!;
    expect(file.state.changes[`github:${REPO}#3`]).toMatchObject({ verdict: 'culprit', title: 'PR 3' });
  }, 30_000);
});
