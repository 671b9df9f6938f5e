// GitHub Actions runs are sent once and can be found again: by the key in their title before they are
// sent again after a crash, and for their id on a GitHub Enterprise Server whose dispatch returns none
// (so that cancel and resume work there too). And the real Probot client waits out GitHub's secondary
// rate limit as GitHub asks, where Probot's own gives up after the first.
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import { describe, expect, it } from 'vitest';
import { GithubActionsDispatcher, type RequestOctokit } from '../../src/ci/github-actions/dispatcher.ts';
import type { CoreEvent } from '../../src/core/index.ts';
import { dispatchContext } from '../helpers/dispatch.ts';
import { RetryingOctokit } from '../../src/hosts/github/octokit.ts';
import { privateKey } from '../helpers/github.ts';
import { documentedAnswer, OLDEST_GHES } from '../helpers/github-spec.ts';
import { offline } from '../helpers/network.ts';

offline();

const API = 'https://api.github.com';
const REPO = 'octo/ost';
const RUNS = `/repos/${REPO}/actions/workflows/ost.yml/runs`;

const ctx = (events: CoreEvent[]) =>
  dispatchContext(
    { provider: 'github-actions', workflow: 'ost.yml', repository: REPO, ref: 'main', inputs: {} },
    events,
  );

const GHE = 'https://ghe.example.org';

/** An Octokit on the real client class without throttling (on a GHES at `baseUrl`): the requests as GitHub sees them. */
function plainOctokit(baseUrl?: string): () => Promise<RequestOctokit> {
  const Octokit = ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } });
  return () =>
    Promise.resolve(
      new Octokit({ auth: { token: 'ghs_test' }, ...(baseUrl ? { baseUrl } : {}) }) as unknown as RequestOctokit,
    );
}

/** GET .../workflows/{id}/runs as GitHub documents it, listing runs with these ids and titles. */
function runList(runs: [number, string][], spec?: typeof OLDEST_GHES) {
  const page = documentedAnswer<{ workflow_runs: Record<string, unknown>[] }>(
    'GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs',
    200,
    {},
    spec,
  );
  const example = page.workflow_runs[0]!;
  return {
    ...page,
    total_count: runs.length,
    workflow_runs: runs.map(([id, title]) => ({
      ...example,
      id,
      display_title: title,
      html_url: `https://github.com/${REPO}/actions/runs/${id}`,
    })),
  };
}

const spec = (key: string) => ({
  key,
  refs: { app: 'abc' },
  changes: ['x'],
  attempt: 1,
  kind: 'batch' as const,
  line: 'main',
  end: 'x',
});

describe('GitHub Actions runs found by their key', () => {
  it('tells whether a run was dispatched before a crash, by its key in the run titles (whole keys only)', async () => {
    nock(API)
      .persist()
      .get(RUNS)
      .query({ event: 'workflow_dispatch', per_page: '50' })
      .reply(
        200,
        runList([
          [11, 'OST q.11-abc'],
          [12, 'OST q.2-def'],
        ]),
      );
    const d = new GithubActionsDispatcher(plainOctokit());
    expect(await d.wasDispatched('q.2-def', ctx([]))).toBe(true);
    expect(await d.wasDispatched('q.1-abc', ctx([]))).toBe(false);
  });

  it('learns the run id on a GitHub that returns none, so that cancel and resume work', async () => {
    const events: CoreEvent[] = [];
    let listed = 0;
    nock(GHE)
      .post(`/api/v3/repos/${REPO}/actions/workflows/ost.yml/dispatches`, (b) => 'return_run_details' in b)
      .reply(422, { message: 'Invalid request.\n\n"return_run_details" is not a permitted key.' })
      .post(`/api/v3/repos/${REPO}/actions/workflows/ost.yml/dispatches`)
      .reply(204)
      .get(`/api/v3${RUNS}`)
      .query(true)
      .times(2)
      // the run shows up a moment after the dispatch
      .reply(() => [200, runList(listed++ === 0 ? [] : [[77, 'OST q.5-aaa']], OLDEST_GHES)]);
    const d = new GithubActionsDispatcher(plainOctokit(`${GHE}/api/v3`), undefined, [1, 1, 1]);
    expect(await d.dispatch(spec('q.5-aaa'), ctx(events))).toEqual({});
    for (let i = 0; i < 500 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual([
      {
        type: 'run-started',
        at: 1,
        key: 'q.5-aaa',
        url: `https://github.com/${REPO}/actions/runs/77`,
        ciRunId: 77,
      },
    ]);
  });
});

describe('GitHub secondary rate limits', () => {
  const secondary = {
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
  };

  async function dispatchThrough(Octokit: typeof ProbotOctokit): Promise<{ ok: boolean; tries: number }> {
    let tries = 0;
    nock(API)
      .post('/app/installations/5/access_tokens')
      .reply(201, { token: 'ghs_installation', expires_at: '2099-01-01T00:00:00Z' })
      .post(`/repos/${REPO}/actions/workflows/ost.yml/dispatches`)
      .times(2)
      .reply(() => (++tries === 1 ? [403, secondary, { 'retry-after': '1' }] : [204, '']));
    const probot = new Probot({ appId: 1, privateKey, Octokit });
    const octokit = await probot.auth(5);
    const ok = await octokit
      .request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
        owner: 'octo',
        repo: 'ost',
        workflow_id: 'ost.yml',
        ref: 'main',
      })
      .then(
        () => true,
        () => false,
      );
    return { ok, tries };
  }

  it("retries as GitHub asks with ost-gate's client; Probot's own gives up after the first", async () => {
    expect(await dispatchThrough(RetryingOctokit)).toEqual({ ok: true, tries: 2 });
    nock.cleanAll();
    expect(await dispatchThrough(ProbotOctokit)).toEqual({ ok: false, tries: 1 });
  }, 20_000);
});
