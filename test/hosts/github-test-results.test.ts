// A failed GitHub Actions run's failing tests: the `ost-results` artifact is listed and downloaded
// through the REST API (its zip comes by a redirect to GitHub's storage) and read as JUnit XML.
import nock from 'nock';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { checkRunsStandIn, pullRequest } from '../helpers/github-answers.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { zipTests } from '../../src/ci/github-actions/results-artifact.ts';

const CONFIG = 'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 1\nbranches: [main]\n';
const STORAGE = 'https://pipelines.actions.githubusercontent.com';
const sha = (i: number) => `${String(i).repeat(40)}`.slice(0, 40);

offline();

const junit = (cases: string) => `<?xml version="1.0" encoding="UTF-8"?><testsuites>${cases}</testsuites>`;

async function failedRun(artifacts: () => nock.Scope | void) {
  const bed = await githubBed(CONFIG);
  bed.api.post('/repos/Codertocat/Hello-World/actions/workflows/ost.yml/dispatches').reply(200, {
    workflow_run_id: 7001,
    run_url: `https://api.github.com/repos/${REPO}/actions/runs/7001`,
    html_url: `https://github.com/${REPO}/actions/runs/7001`,
  });
  checkRunsStandIn(bed.api);
  for (const n of [1, 2])
    bed.api.get(`/repos/Codertocat/Hello-World/pulls/${n}`).reply(200, pullRequest({ number: n, title: `PR ${n}` }));
  artifacts.call(bed);
  await bed.receive(
    'push',
    pushPayload(
      '0'.repeat(40),
      [1, 2].map((n) => ({ id: sha(n), message: `Merge pull request #${n} from dev/f${n}` })),
    ),
  );
  const file = await readQueue(bed.store, `github:${REPO}@main`);
  const key = Object.keys(file!.state.runs)[0]!;
  const wr = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
  wr.workflow_run = {
    ...wr.workflow_run,
    id: 7001,
    display_title: `OST ${key}`,
    conclusion: 'failure',
    html_url: `https://github.com/${REPO}/actions/runs/7001`,
  };
  wr.installation = { id: INSTALLATION };
  return { bed, key, wr };
}

describe('test results from GitHub Actions', () => {
  it('reads the ost-results artifact of a failed run, following the redirect to its zip', async () => {
    const zip = zipSync({
      'basic/results.xml': strToU8(
        junit(
          '<testsuite name="basic"><testcase classname="basic-suite/002_bootstrap" name="add_hosts"><failure message="timeout"/></testcase>' +
            '<testcase classname="basic-suite/002_bootstrap" name="add_dc"/></testsuite>',
        ),
      ),
      'README.txt': strToU8('not a report'),
    });
    let storage: nock.Scope | undefined;
    const { bed, key, wr } = await failedRun(function (this: Awaited<ReturnType<typeof githubBed>>) {
      this.api
        .get('/repos/Codertocat/Hello-World/actions/runs/7001/artifacts')
        .query({ name: 'ost-results', per_page: '10' })
        .reply(200, {
          total_count: 1,
          artifacts: [
            {
              id: 55,
              node_id: 'MDg6QXJ0aWZhY3Q1NQ==',
              name: 'ost-results',
              size_in_bytes: zip.byteLength,
              url: `https://api.github.com/repos/${REPO}/actions/artifacts/55`,
              archive_download_url: `https://api.github.com/repos/${REPO}/actions/artifacts/55/zip`,
              expired: false,
              created_at: '2026-12-02T10:00:00Z',
              expires_at: '2027-03-02T10:00:00Z',
              updated_at: '2026-12-02T10:00:00Z',
            },
          ],
        });
      this.api
        .get('/repos/Codertocat/Hello-World/actions/artifacts/55/zip')
        .reply(302, '', { location: `${STORAGE}/blob/55.zip?sig=abc` });
      storage = nock(STORAGE).get('/blob/55.zip').query(true).reply(200, Buffer.from(zip), {
        'content-type': 'application/zip',
      });
    });
    await bed.receive('workflow_run', wr);
    const run = (await readQueue(bed.store, `github:${REPO}@main`))!.state.runs[key]!;
    expect(run).toMatchObject({
      state: 'failed',
      tests: { failed: ['basic-suite/002_bootstrap.add_hosts'], failedCount: 1, passed: 1 },
    });
    expect(storage!.isDone()).toBe(true);
  }, 30_000);

  it('keeps one bit when a failed run has no ost-results artifact', async () => {
    const { bed, key, wr } = await failedRun(function (this: Awaited<ReturnType<typeof githubBed>>) {
      this.api
        .get('/repos/Codertocat/Hello-World/actions/runs/7001/artifacts')
        .query(true)
        .reply(200, { total_count: 0, artifacts: [] });
    });
    await bed.receive('workflow_run', wr);
    const run = (await readQueue(bed.store, `github:${REPO}@main`))!.state.runs[key]!;
    expect(run.state).toBe('failed');
    expect(run.tests).toBeUndefined();
  }, 30_000);

  it('refuses a zip that unpacks past the bound, or is no zip at all', () => {
    const big = zipSync({ 'big.xml': new Uint8Array(11 * 1024 * 1024) });
    expect(() => zipTests(big)).toThrow(/unpacks to more than/);
    expect(() => zipTests(strToU8('PK not really'))).toThrow(/not a readable zip/);
  });
});
