// Slash commands on GitHub: every verb, an unknown verb, a user without permission, and a bot.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { answerQueueWrites, issueComment, pullRequest } from '../helpers/github-answers.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO, type GithubBed } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

const CONFIG =
  'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 1\nbranches: [main]\nflaky:\n  confirm: 0\n  confidence: 0\ncommands:\n  permission: write\n';
const QUEUE = `github:${REPO}@main`;

offline();

async function bedWithPr(permission = 'write', config = CONFIG): Promise<GithubBed> {
  const bed = await githubBed(config);
  answerQueueWrites(bed.api, permission);
  bed.api.post(/\/actions\/runs\/\d+\/cancel/).reply(202, {});
  bed.api
    .get('/repos/Codertocat/Hello-World/pulls/7')
    .reply(200, pullRequest({ number: 7, title: 'PR 7', html_url: `https://github.com/${REPO}/pull/7`, login: 'dev' }));
  await bed.receive(
    'push',
    pushPayload('0'.repeat(40), [{ id: '7'.repeat(40), message: 'Merge pull request #7 from dev/x' }]),
  );
  return bed;
}

function comment(body: string, number = 7, sender: Record<string, unknown> = { login: 'alice', type: 'User' }) {
  const c = example<Record<string, any>>('issue_comment', (e) => e.action === 'created');
  c.issue = { ...c.issue, number, pull_request: { url: `https://api.github.com/repos/${REPO}/pulls/${number}` } };
  c.comment = { ...c.comment, body };
  c.sender = { ...c.sender, ...sender };
  c.installation = { id: INSTALLATION };
  return c;
}

const replies = (bed: GithubBed) =>
  bed.sent.filter((s) => s.method === 'POST' && /\/issues\/7\/comments$/.test(s.path)).map((s) => String(s.body.body));

describe('GitHub slash commands', () => {
  it('help and unknown verbs list the commands', async () => {
    const bed = await bedWithPr();
    await bed.receive('issue_comment', comment('/ost help'));
    await bed.receive('issue_comment', comment('/ost frobnicate'));
    const r = replies(bed);
    expect(r[0]).toContain('`/ost not-culprit`');
    expect(r[1]).toMatch(/`\/ost frobnicate` is not a command/);
    expect(r[1]).toContain('`/ost retry`');
  });

  it('status says where the change is', async () => {
    const bed = await bedWithPr('read');
    await bed.receive('issue_comment', comment('/ost status'));
    expect(replies(bed)[0]).toMatch(
      new RegExp(
        `^ost-gate: \`github:${REPO}#7\` is under test in \\[.*\\]\\(https://github\\.com/Codertocat/Hello-World/actions/runs/7000\\) in queue`,
      ),
    );
  });

  it('pause and resume need admin; the reply says what is required and nothing changes', async () => {
    const bed = await bedWithPr('write');
    await bed.receive('issue_comment', comment('/ost pause'));
    expect(replies(bed)[0]).toMatch(/`\/ost pause` needs admin permission on .*; you have write. Nothing was changed/);
    expect((await readQueue(bed.store, QUEUE))!.state.paused).toBeNull();
  });

  it('an admin pauses and resumes the queue, with a reply each time', async () => {
    const bed = await bedWithPr('admin');
    await bed.receive('issue_comment', comment('/ost pause'));
    expect((await readQueue(bed.store, QUEUE))!.state.paused).toMatchObject({ by: 'alice' });
    await bed.receive('issue_comment', comment('/ost resume'));
    expect((await readQueue(bed.store, QUEUE))!.state.paused).toBeNull();
    expect(replies(bed)).toEqual([expect.stringContaining('paused'), expect.stringContaining('resumed')]);
  });

  it('a reader cannot dequeue', async () => {
    const reader = await bedWithPr('read');
    await reader.receive('issue_comment', comment('/ost dequeue'));
    expect(replies(reader)[0]).toMatch(/needs write permission/);
    expect((await readQueue(reader.store, QUEUE))!.state.changes[`github:${REPO}#7`]!.state).not.toBe('done');
  });

  it('someone who is not a collaborator (GitHub answers 404) gets a refusal, not silence', async () => {
    const bed = await githubBed(CONFIG);
    bed.api.get(/\/collaborators\/[^/]+\/permission/).reply(404, {
      message: 'Not Found',
      documentation_url:
        'https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user',
    });
    bed.api.post(/\/issues\/\d+\/comments/).reply(201, issueComment({ id: 1 }));
    await bed.receive('issue_comment', comment('/ost pause'));
    expect(replies(bed)[0]).toMatch(/`\/ost pause` needs admin permission on .*; you have none\. Nothing was changed/);
  });

  it('a writer can: not-culprit, retry and dequeue each reply', async () => {
    const bed = await bedWithPr('write');
    await bed.receive('issue_comment', comment('/ost not-culprit'));
    await bed.receive('issue_comment', comment('/ost retry'));
    await bed.receive('issue_comment', comment('/ost dequeue'));
    const r = replies(bed);
    expect(r, JSON.stringify(r)).toHaveLength(3);
    expect(r[0]).toMatch(/is not a culprit/);
    expect(r[1]).toMatch(/nothing failed to re-run/);
    expect(r[2]).toMatch(/removed from queue .* untested/);
    expect((await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}#7`]!.verdict).toBe('skipped');
  });

  it('enqueue adds a merged PR the queue missed', async () => {
    const bed = await bedWithPr('write');
    bed.api
      .get('/repos/Codertocat/Hello-World/pulls/9')
      .reply(
        200,
        pullRequest({ number: 9, title: 'PR 9', login: 'bob', merge_commit_sha: '9'.repeat(40), base: 'main' }),
      );
    await bed.receive('issue_comment', comment('/ost enqueue', 9));
    const file = (await readQueue(bed.store, QUEUE))!;
    expect(file.state.changes[`github:${REPO}#9`]).toMatchObject({ sha: '9'.repeat(40), title: 'PR 9' });
    expect(
      bed.sent.some((s) => /\/issues\/9\/comments$/.test(s.path) && String(s.body.body).includes('added to queue')),
    ).toBe(true);
  });

  it('enqueue puts a missed PR in the queue its base branch uses (a shared one here), and refuses an ungated branch', async () => {
    const bed = await bedWithPr('write', `queue: ovirt-master\n${CONFIG}`);
    bed.api
      .get('/repos/Codertocat/Hello-World/pulls/9')
      .reply(
        200,
        pullRequest({ number: 9, title: 'PR 9', login: 'bob', merge_commit_sha: '9'.repeat(40), base: 'main' }),
      );
    bed.api
      .get('/repos/Codertocat/Hello-World/pulls/10')
      .reply(
        200,
        pullRequest({ number: 10, title: 'PR 10', login: 'bob', merge_commit_sha: 'a'.repeat(40), base: 'stable' }),
      );
    await bed.receive('issue_comment', comment('/ost enqueue', 9));
    await bed.receive('issue_comment', comment('/ost enqueue', 10));
    expect(
      (await readQueue(bed.store, `github:Codertocat/ovirt-master`))!.state.changes[`github:${REPO}#9`],
    ).toMatchObject({
      sha: '9'.repeat(40),
    });
    // a queue named in a repo config lives in the repository owner's namespace
    expect(await bed.store.listQueues()).toEqual(['github:Codertocat/ovirt-master']);
    expect(
      bed.sent.some(
        (s) => /\/issues\/10\/comments$/.test(s.path) && String(s.body.body).includes('does not gate stable'),
      ),
    ).toBe(true);
  });

  it('ignores bots, and comments without a command', async () => {
    const bed = await bedWithPr('admin');
    await bed.receive('issue_comment', comment('/ost pause', 7, { login: 'ost-gate[bot]', type: 'Bot' }));
    await bed.receive('issue_comment', comment('looks good to me'));
    expect(replies(bed)).toEqual([]);
    expect((await readQueue(bed.store, QUEUE))!.state.paused).toBeNull();
  });

  it('reads commands from review bodies and review comments too', async () => {
    const bed = await bedWithPr('read');
    const review = example<Record<string, any>>('pull_request_review', (e) => e.action === 'submitted');
    review.pull_request = { ...review.pull_request, number: 7 };
    review.review = { ...review.review, body: 'Thanks!\n/ost status' };
    review.installation = { id: INSTALLATION };
    await bed.receive('pull_request_review', review);
    const rc = example<Record<string, any>>('pull_request_review_comment', (e) => e.action === 'created');
    rc.pull_request = { ...rc.pull_request, number: 7 };
    rc.comment = { ...rc.comment, body: '/ost help' };
    rc.installation = { id: INSTALLATION };
    await bed.receive('pull_request_review_comment', rc);
    expect(replies(bed)).toEqual([expect.stringContaining('under test'), expect.stringContaining('ost-gate commands')]);
  });

  it('the ost:priority label on a merged pull request is /ost priority from whoever set it', async () => {
    const bed = await bedWithPr();
    // a second PR merged while the first one's run goes on: it waits for the next batch
    bed.api
      .get('/repos/Codertocat/Hello-World/pulls/8')
      .reply(
        200,
        pullRequest({ number: 8, title: 'PR 8', html_url: `https://github.com/${REPO}/pull/8`, login: 'dev' }),
      );
    await bed.receive(
      'push',
      pushPayload('7'.repeat(40), [{ id: '8'.repeat(40), message: 'Merge pull request #8 from dev/y' }]),
    );
    const labeled = example<Record<string, any>>('pull_request', (e) => e.action === 'labeled');
    labeled.pull_request = { ...labeled.pull_request, number: 8, merged: true };
    labeled.label = { ...labeled.label, name: 'ost:priority' };
    labeled.sender = { ...labeled.sender, login: 'alice', type: 'User' };
    labeled.installation = { id: INSTALLATION };
    await bed.receive('pull_request', labeled);
    const change = (await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}#8`]!;
    expect(change.priority).toBe(true);
    expect(
      bed.sent
        .filter((s) => s.method === 'POST' && /\/issues\/8\/comments$/.test(s.path))
        .map((s) => String(s.body.body)),
    ).toEqual([expect.stringContaining('jumps the line')]);
    // another label, or an unmerged pull request, changes nothing
    const other = {
      ...labeled,
      label: { ...labeled.label, name: 'bug' },
      pull_request: { ...labeled.pull_request, number: 7 },
    };
    await bed.receive('pull_request', other);
    expect((await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}#7`]!.priority).toBeUndefined();
  });
});
