// `/ost try` on GitHub through probot: an open pull request's test merge commit runs over the queue's
// last passing commits; the "ost-gate try" check run on its head commit goes in progress and then gets
// the result, a comment says it, and nothing in the queue changes. Requests are checked against
// GitHub's OpenAPI description by the spec guard.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { checkRunsStandIn, collaboratorPermission, issueComment, pullRequest } from '../helpers/github-answers.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO, type GithubBed } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

const CONFIG = 'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 2\nbranches: [main]\n';
const QUEUE = `github:${REPO}@main`;
const MERGED = '7'.repeat(40);
const TEST_MERGE = 'c'.repeat(40);
const HEAD = 'd'.repeat(40);

offline();

function openPull(number: number, fields: Record<string, unknown> = {}) {
  const pr = pullRequest({
    number,
    title: `PR ${number}`,
    html_url: `https://github.com/${REPO}/pull/${number}`,
    login: 'dev',
    base: 'main',
    merged: false,
    merged_at: null,
    state: 'open',
    merge_commit_sha: TEST_MERGE,
    mergeable: true,
    ...fields,
  });
  pr.head = { ...(pr.head as Record<string, unknown>), sha: HEAD };
  return pr;
}

function comment(body: string, number: number) {
  const c = example<Record<string, any>>('issue_comment', (e) => e.action === 'created');
  c.issue = { ...c.issue, number, pull_request: { url: `https://api.github.com/repos/${REPO}/pulls/${number}` } };
  c.comment = { ...c.comment, body };
  c.sender = { ...c.sender, login: 'alice', type: 'User' };
  c.installation = { id: INSTALLATION };
  return c;
}

/** A queue whose first run (over PR 7) passed, with GitHub's answers for what follows. */
async function passedQueue() {
  const bed = await githubBed(CONFIG);
  let runId = 8000;
  bed.api.post(/\/dispatches$/).reply(200, () => ({
    workflow_run_id: ++runId,
    run_url: `https://api.github.com/repos/${REPO}/actions/runs/${runId}`,
    html_url: `https://github.com/${REPO}/actions/runs/${runId}`,
  }));
  const checkRuns = checkRunsStandIn(bed.api);
  bed.api.get(/\/issues\/\d+\/comments/).reply(200, []);
  bed.api.post(/\/issues\/\d+\/comments/).reply(201, issueComment({ id: 1 }));
  bed.api.get(/\/collaborators\/[^/]+\/permission/).reply(200, collaboratorPermission('write', 'alice'));
  bed.api.get(`/repos/${REPO}/pulls/12`).reply(200, openPull(12));
  bed.api.get(`/repos/${REPO}/pulls/13`).reply(200, openPull(13, { mergeable: false, merge_commit_sha: null }));
  bed.api.get(`/repos/${REPO}/pulls/7`).reply(200, pullRequest({ number: 7, title: 'PR 7', login: 'dev' }));
  await bed.receive('push', pushPayload('0'.repeat(40), [{ id: MERGED, message: 'Merge pull request #7 from dev/x' }]));
  await complete(bed, 8001, 'success');
  return { bed, checkRuns };
}

async function complete(bed: GithubBed, id: number, conclusion: string) {
  const d = bed.sent.filter((s) => s.path.endsWith('/dispatches'))[id - 8001]!;
  const wr = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
  wr.workflow_run = {
    ...wr.workflow_run,
    id,
    display_title: `OST ${(d.body.inputs as Record<string, string>).ost_key}`,
    conclusion,
    html_url: `https://github.com/${REPO}/actions/runs/${id}`,
  };
  wr.installation = { id: INSTALLATION };
  await bed.receive('workflow_run', wr);
}

const commentsOn = (bed: GithubBed, n: number) =>
  bed.sent
    .filter((s) => s.method === 'POST' && new RegExp(`/issues/${n}/comments$`).test(s.path))
    .map((s) => String(s.body.body));

describe('/ost try on GitHub', () => {
  it('runs the test merge commit, shows it in the "ost-gate try" check run and a comment, and changes nothing in the queue', async () => {
    const { bed, checkRuns } = await passedQueue();
    const before = (await readQueue(bed.store, QUEUE))!.state;
    expect(before.changes[`github:${REPO}#7`]!.verdict).toBe('passed');
    await bed.receive('issue_comment', comment('/ost try', 12));
    expect(commentsOn(bed, 12)[0]).toMatch(/a try of github:Codertocat\/Hello-World#12 at cccccccccc waits/);
    const dispatch = bed.sent.filter((s) => s.path.endsWith('/dispatches'))[1]!;
    const inputs = dispatch.body.inputs as Record<string, string>;
    expect(JSON.parse(inputs.ost_refs!)).toEqual({ [REPO]: TEST_MERGE });
    expect(JSON.parse(inputs.ost_changes!)).toEqual([`github:${REPO}#12`]);
    const tryCheck = () => checkRuns.filter((c) => c.name === 'ost-gate try');
    expect(tryCheck()).toEqual([
      expect.objectContaining({ head_sha: HEAD, status: 'in_progress', external_id: inputs.ost_key }),
    ]);
    await complete(bed, 8002, 'failure');
    expect(tryCheck()).toEqual([
      expect.objectContaining({
        head_sha: HEAD,
        status: 'completed',
        conclusion: 'failure',
        details_url: `https://github.com/${REPO}/actions/runs/8002`,
      }),
    ]);
    const result = commentsOn(bed, 12)[1]!;
    expect(result).toMatch(/^### ost-gate try: failed/);
    expect(result).toContain('the merge commit `cccccccccc`');
    expect(result).toContain(`[The run's log](https://github.com/${REPO}/actions/runs/8002)`);
    expect(result).toContain(`<!-- ost-gate:${QUEUE}:github:${REPO}#12:try:${inputs.ost_key} -->`);
    const after = (await readQueue(bed.store, QUEUE))!.state;
    expect(after.stats).toEqual(before.stats);
    expect(after.verdicts).toEqual(before.verdicts);
    expect(Object.keys(after.changes)).toEqual(Object.keys(before.changes));
    // the "ost-gate" check runs of the queue's changes are untouched by the try
    expect(checkRuns.filter((c) => c.name === 'ost-gate').map((c) => c.head_sha)).toEqual([MERGED]);
  });

  it('refuses a pull request with no merge commit to try, and runs nothing', async () => {
    const { bed } = await passedQueue();
    await bed.receive('issue_comment', comment('/ost try', 13));
    expect(commentsOn(bed, 13)[0]).toMatch(/#13 has no merge commit into main to try/);
    expect(bed.sent.filter((s) => s.path.endsWith('/dispatches'))).toHaveLength(1);
  });

  it('refuses a merged pull request: it is tested in its queue', async () => {
    const { bed } = await passedQueue();
    await bed.receive('issue_comment', comment('/ost try', 7));
    expect(commentsOn(bed, 7).at(-1)).toMatch(/is merged and tested in its queue/);
  });
});
