// D2: a repository cannot take over another repository's queue with `queue:`. Two repositories, one
// server: evil/x names the victim's queue, with its own CI, `commands.permission: read` and no
// notifications. Its config is refused with a check run and a notice; its changes go to its own
// queue; the victim's queue keeps its CI and settings, and a read-only user still cannot dequeue there.
import { answerQueueWrites, pullRequest } from '../helpers/github-answers.ts';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { gerritBed } from '../helpers/gerrit.ts';

offline();

const VICTIM_CONFIG = 'ci: {provider: github-actions, workflow: ost.yml, max_parallel: 1}\nbranches: [main]\n';
const EVIL = 'evil/x';
const EVIL_CONFIG = [
  `queue: "github:${REPO}@main"`,
  'ci: {provider: github-actions, workflow: evil.yml}',
  'branches: [main]',
  'commands: {permission: read}',
  'report: {notify: []}',
].join('\n');
const VICTIM_QUEUE = `github:${REPO}@main`;

function evilPush(sha: string, repo = EVIL) {
  const p = pushPayload('0'.repeat(40), [{ id: sha, message: `Merge pull request #1 from ${repo}` }]);
  const repository = p.repository as Record<string, unknown>;
  const [login, name] = repo.split('/') as [string, string];
  return { ...p, repository: { ...repository, full_name: repo, name, owner: { login, id: 666 } } };
}

/** A GitHub bed where `repo` (besides the victim) has `config` on its default branch. */
async function bedWith(repo: string, config: string, victimConfig = VICTIM_CONFIG) {
  const bed = await githubBed(victimConfig);
  bed.api
    .get(new RegExp(`/repos/${repo}/contents/\\.github(%2F|/)ost-gate\\.yml`))
    .reply(200, config, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
  bed.api
    .get(/\/pulls\/\d+$/)
    .reply(200, (uri) => pullRequest({ number: Number(uri.split('/').pop()), title: 'PR', login: 'dev' }));
  answerQueueWrites(bed.api, 'read');
  return bed;
}

describe('queue ownership', () => {
  it('refuses a queue of another owner, keeps the victim queue as it was, and routes the changes home', async () => {
    const bed = await githubBed(VICTIM_CONFIG);
    bed.api.get(/\/repos\/evil\/x\/contents\/\.github(%2F|\/)ost-gate\.yml/).reply(200, EVIL_CONFIG, {
      'content-type': 'application/vnd.github.raw; charset=utf-8',
    });
    bed.api
      .get(/\/pulls\/\d+$/)
      .reply(200, (uri) => pullRequest({ number: Number(uri.split('/').pop()), title: 'PR', login: 'dev' }));
    answerQueueWrites(bed.api, 'read');

    await bed.receive(
      'push',
      pushPayload('0'.repeat(40), [{ id: '1'.repeat(40), message: 'Merge pull request #1 from dev/a' }]),
    );
    await bed.receive('push', evilPush('e'.repeat(40)));

    const victim = (await readQueue(bed.store, VICTIM_QUEUE))!;
    expect(Object.keys(victim.state.changes)).toEqual([`github:${REPO}#1`]);
    expect(victim.ci).toMatchObject({ provider: 'github-actions', workflow: 'ost.yml', repository: REPO });
    expect(victim.repoConfig!.commands.permission).toBe('write');
    expect(victim.repoConfig!.report.notify).toEqual(['culprit', 'blocked', 'fixed']);

    const own = (await readQueue(bed.store, `github:${EVIL}@main`))!;
    expect(Object.keys(own.state.changes)).toEqual([`github:${EVIL}#1`]);
    expect(own.ci).toMatchObject({ workflow: 'evil.yml', repository: EVIL });
    expect(own.notices.find((n) => n.code === 'queue-refused')?.message).toMatch(/belongs to another owner/);
    const check = bed.sent.find((s) => s.method === 'POST' && s.path === `/repos/${EVIL}/check-runs`);
    expect(check?.body).toMatchObject({ name: 'ost-gate config', conclusion: 'failure' });

    // every dispatch went to the workflow of the queue's own repository
    const dispatches = bed.sent.filter((s) => s.path.endsWith('/dispatches')).map((s) => s.path);
    expect(dispatches.sort()).toEqual(
      [
        `/repos/${REPO}/actions/workflows/ost.yml/dispatches`,
        `/repos/${EVIL}/actions/workflows/evil.yml/dispatches`,
      ].sort(),
    );

    // a read-only user's /ost dequeue on the victim's PR is refused
    const c = example<Record<string, any>>('issue_comment', (e) => e.action === 'created');
    c.issue = { ...c.issue, number: 1, pull_request: { url: 'x' } };
    c.comment = { ...c.comment, body: '/ost dequeue' };
    c.sender = { ...c.sender, login: 'reader', type: 'User' };
    c.installation = { id: INSTALLATION };
    await bed.receive('issue_comment', c);
    const reply = bed.sent.find((s) => s.method === 'POST' && s.path === `/repos/${REPO}/issues/1/comments`);
    expect(String(reply?.body.body)).toMatch(/needs write permission/);
    expect((await readQueue(bed.store, VICTIM_QUEUE))!.state.changes[`github:${REPO}#1`]!.state).not.toBe('done');
  });
});

describe('queue ownership between repositories of one owner', () => {
  const SIBLING = 'Codertocat/sibling';

  it("refuses a sibling's stream queue: the victim is unchanged and told that someone tried", async () => {
    const bed = await bedWith(
      SIBLING,
      [`queue: "github:${REPO}@main"`, 'ci: {provider: github-actions, workflow: evil.yml, max_parallel: 5}'].join(
        '\n',
      ),
    );
    await bed.receive(
      'push',
      pushPayload('0'.repeat(40), [{ id: '1'.repeat(40), message: 'Merge pull request #1 from dev/a' }]),
    );
    await bed.receive('push', evilPush('e'.repeat(40), SIBLING));

    const victim = (await readQueue(bed.store, VICTIM_QUEUE))!;
    expect(Object.keys(victim.state.changes)).toEqual([`github:${REPO}#1`]);
    expect(victim.ci).toMatchObject({ workflow: 'ost.yml', repository: REPO });
    expect(victim.state.settings.maxParallel).toBe(1);
    expect(victim.owner).toBe(`github:${REPO}`);
    expect(victim.notices.find((n) => n.code === 'queue-claim')?.message).toMatch(
      new RegExp(`github:${SIBLING} named this queue .*refused, nothing here was changed`),
    );

    const own = (await readQueue(bed.store, `github:${SIBLING}@main`))!;
    expect(Object.keys(own.state.changes)).toEqual([`github:${SIBLING}#1`]);
    expect(own.notices.find((n) => n.code === 'queue-refused')?.message).toMatch(
      new RegExp(`belongs to github:${REPO}, and only its owner's config sets it`),
    );
    const check = bed.sent.find((s) => s.method === 'POST' && s.path === `/repos/${SIBLING}/check-runs`);
    expect(check?.body).toMatchObject({ name: 'ost-gate config', conclusion: 'failure' });
  });

  it('gives a named queue to the repository that named it first; a second one is refused', async () => {
    const named = 'queue: ovirt-master\nci: {provider: github-actions, workflow: ost.yml, max_parallel: 1}\n';
    const bed = await bedWith(
      SIBLING,
      'queue: ovirt-master\nci: {provider: github-actions, workflow: evil.yml}\n',
      named,
    );
    await bed.receive(
      'push',
      pushPayload('0'.repeat(40), [{ id: '1'.repeat(40), message: 'Merge pull request #1 from dev/a' }]),
    );
    await bed.receive('push', evilPush('e'.repeat(40), SIBLING));

    const shared = (await readQueue(bed.store, 'github:Codertocat/ovirt-master'))!;
    expect(shared.owner).toBe(`github:${REPO}`);
    expect(Object.keys(shared.state.changes)).toEqual([`github:${REPO}#1`]);
    expect(shared.ci).toMatchObject({ workflow: 'ost.yml' });
    expect(shared.notices.some((n) => n.code === 'queue-claim')).toBe(true);
    const own = (await readQueue(bed.store, `github:${SIBLING}@main`))!;
    expect(Object.keys(own.state.changes)).toEqual([`github:${SIBLING}#1`]);
    expect(own.ci).toMatchObject({ workflow: 'evil.yml', repository: SIBLING });
  });
});

describe('queue ownership on one Gerrit server', () => {
  it("refuses a project's config that names another project's queue: the victim keeps its CI and is told", async () => {
    const victimConfig = 'branches: [master]\nci: {provider: jenkins, job: ost, max_parallel: 1}\n';
    const evilConfig = [
      `queue: "gerrit:gerrit.example.org/victim@master"`,
      'branches: [master]',
      'ci: {provider: jenkins, job: evil-job, max_parallel: 5}',
      'commands: {permission: [Anonymous Users]}',
    ].join('\n');
    const bed = await gerritBed((project) => (project === 'evil' ? evilConfig : victimConfig));
    bed.setBuilding(true);
    await bed.merge('victim', { number: 1 });
    await bed.merge('evil', { number: 2 });
    const victim = (await readQueue(bed.store, 'gerrit:gerrit.example.org/victim@master'))!;
    expect(Object.keys(victim.state.changes)).toEqual(['gerrit:gerrit.example.org/victim~1']);
    expect(victim.ci).toMatchObject({ provider: 'jenkins', job: 'ost' });
    expect(victim.state.settings.maxParallel).toBe(1);
    expect(victim.repoConfig!.commands.permission).toBe('write');
    expect(victim.notices.find((n) => n.code === 'queue-claim')?.message).toMatch(
      /gerrit:gerrit\.example\.org\/evil named this queue in evil:\.ost-gate\.yml on master; refused/,
    );
    const own = (await readQueue(bed.store, 'gerrit:gerrit.example.org/evil@master'))!;
    expect(Object.keys(own.state.changes)).toEqual(['gerrit:gerrit.example.org/evil~2']);
    // evil's own change gets the config error as a review message
    const review = bed.reviews.find((r) => r.number === 2)!;
    expect(review.body.message).toMatch(/^ost-gate: config error\n.*belongs to gerrit:gerrit\.example\.org\/victim/s);
    bed.close();
  });
});
