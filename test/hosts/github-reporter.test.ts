// The GitHub reporter: edits the comment that carries its marker instead of posting again, and uses
// commit comments for direct pushes.
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import type { ChangeRecord } from '../../src/core/index.ts';
import { checkConclusion, checkSummary, GithubReporter, SUMMARY_LIMIT } from '../../src/hosts/github/reporter.ts';
import { conclusionStatus } from '../../src/ci/github-actions/dispatcher.ts';
import { markdownMarker as marker } from '../../src/report/markers.ts';
import { changeTarget } from '../../src/report/model.ts';
import { octokitForTests, REPO } from '../helpers/github.ts';
import { checkRun, checkRunList, commitComment, issueComment } from '../helpers/github-answers.ts';
import { reportOf } from '../helpers/report.ts';

offline();

const QUEUE = `github:${REPO}@main`;
const CONFIG = 'ci: {provider: github-actions, workflow: ost.yml}\nreport: {check: false}';
const change = (extra: Partial<ChangeRecord>): ChangeRecord => ({
  id: `github:${REPO}#3`,
  sha: 'c'.repeat(40),
  host: 'github',
  project: REPO,
  branch: 'main',
  stream: `github:${REPO}@main`,
  seq: 1,
  state: 'done',
  enqueuedAt: 0,
  number: 3,
  title: 'PR 3',
  ...extra,
});
const reporter = new GithubReporter(async () => new octokitForTests({ auth: 'test-token' }) as never);

describe('check run conclusions', () => {
  it.each([
    ['passed', 'success'],
    ['fixed', 'success'],
    ['culprit', 'failure'],
    ['blocked', 'neutral'],
    ['skipped', 'skipped'],
  ])('a %s verdict concludes the check run with %s', (verdict, conclusion) => {
    expect(checkConclusion(verdict)).toBe(conclusion);
  });
});

describe('workflow run conclusions', () => {
  it.each([
    ['success', 'success'],
    ['failure', 'failure'],
    ['cancelled', 'error'],
    ['timed_out', 'error'],
    ['startup_failure', 'error'],
    [null, 'error'],
  ])('a workflow run that concluded %s is a %s', (conclusion, status) => {
    expect(conclusionStatus(conclusion)).toBe(status);
  });
});

describe('GithubReporter', () => {
  it('edits its earlier comment (found by marker) instead of posting a second one', async () => {
    const c = change({});
    const api = nock('https://api.github.com')
      .get(`/repos/${REPO}/issues/3/comments`)
      .query(true)
      .reply(200, [
        issueComment({ id: 11, body: 'unrelated' }),
        issueComment({ id: 12, body: `old text\n${marker(QUEUE, c.id, 'culprit')}` }),
      ])
      .patch(`/repos/${REPO}/issues/comments/12`, (b) => String(b.body).startsWith('### ost-gate: culprit'))
      .reply(200, issueComment({ id: 12, body: '### ost-gate: culprit' }));
    await reporter.report(reportOf(QUEUE, c, { change: c.id, verdict: 'culprit', confidence: 0.999, at: 1 }, CONFIG));
    expect(api.isDone()).toBe(true);
  });

  it('comments on the commit of a direct push, and knows afterwards that it did', async () => {
    const c = change({ id: `github:${REPO}@${'c'.repeat(40)}`, number: null });
    const api = nock('https://api.github.com')
      .get(`/repos/${REPO}/commits/${'c'.repeat(40)}/comments`)
      .query(true)
      .reply(200, [])
      .post(`/repos/${REPO}/commits/${'c'.repeat(40)}/comments`, (b) =>
        String(b.body).includes(marker(QUEUE, c.id, 'blocked')),
      )
      .reply(201, commitComment({ id: 5, body: marker(QUEUE, c.id, 'blocked') }))
      .get(`/repos/${REPO}/commits/${'c'.repeat(40)}/comments`)
      .query(true)
      .reply(200, [commitComment({ id: 5, body: marker(QUEUE, c.id, 'blocked') })]);
    await reporter.report(reportOf(QUEUE, c, { change: c.id, verdict: 'blocked', culprit: 'x', at: 1 }, CONFIG));
    expect(await reporter.wasReported(`report:${QUEUE}:${c.id}:blocked`, changeTarget(c))).toBe(true);
    expect(api.isDone()).toBe(true);
  });
});

describe('check run summaries', () => {
  it('cuts a verdict message longer than GitHub allows, and points to the full comment', () => {
    const long = 'x'.repeat(SUMMARY_LIMIT + 10_000);
    const summary = checkSummary(long, 'https://github.com/o/r/pull/3');
    expect(summary.length).toBeLessThanOrEqual(SUMMARY_LIMIT);
    expect(summary).toMatch(/the whole message is in the comment on https:\/\/github\.com\/o\/r\/pull\/3\)$/);
    expect(checkSummary('short', null)).toBe('short');
  });
});

describe('the ost-gate check run', () => {
  it('sends GitHub a summary cut to its limit when the verdict message is longer (a culprit blocking thousands)', async () => {
    const c = change({});
    const blocked = Array.from({ length: 3000 }, (_, i) => `github:${REPO}#${1000 + i}`);
    const summaries: string[] = [];
    const api = nock('https://api.github.com')
      .get(`/repos/${REPO}/commits/${c.sha}/check-runs`)
      .query({ check_name: 'ost-gate' })
      .reply(200, checkRunList([]))
      .post(`/repos/${REPO}/check-runs`, (b) => (summaries.push(String(b.output?.summary)), true))
      .reply(201, checkRun({ id: 78, name: 'ost-gate', head_sha: c.sha, status: 'completed', conclusion: 'failure' }));
    const config = 'ci: {provider: github-actions, workflow: ost.yml}\nreport: {comment: false}';
    const verdict = { change: c.id, verdict: 'culprit' as const, confidence: 0.999, at: 1, blocked };
    await reporter.report(reportOf(QUEUE, c, verdict, config));
    expect(api.isDone()).toBe(true);
    expect(summaries[0]!.length).toBeLessThanOrEqual(SUMMARY_LIMIT);
    expect(summaries[0]!.length).toBeGreaterThan(SUMMARY_LIMIT - 200);
    expect(summaries[0]).toMatch(/cut here: the whole message is in the comment on /);
  });

  it('updates the check run the commit already has instead of creating a second one', async () => {
    const c = change({});
    const api = nock('https://api.github.com')
      .get(`/repos/${REPO}/commits/${c.sha}/check-runs`)
      .query({ check_name: 'ost-gate' })
      .reply(200, checkRunList([{ id: 77, name: 'ost-gate', head_sha: c.sha, status: 'queued', conclusion: null }]))
      .patch(`/repos/${REPO}/check-runs/77`, (b) => b.status === 'completed' && b.conclusion === 'failure')
      .reply(200, checkRun({ id: 77, name: 'ost-gate', head_sha: c.sha, status: 'completed', conclusion: 'failure' }));
    const config = 'ci: {provider: github-actions, workflow: ost.yml}\nreport: {comment: false}';
    await reporter.report(reportOf(QUEUE, c, { change: c.id, verdict: 'culprit', confidence: 0.999, at: 1 }, config));
    expect(api.isDone()).toBe(true);
  });
});
