// GitHub webhooks: redelivery, stale results, signatures over HTTP, config errors, old GHES dispatch, app.yml.
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { parse } from 'yaml';
import examples from '@octokit/webhooks-examples';
import { payloadProblem } from '../../src/hosts/github/payloads.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { sign } from '../../src/http/signature.ts';
import { checkRun, checkRunList, dispatchDetails, githubError, installationToken } from '../helpers/github-answers.ts';
import { documentedReply, DOTCOM } from '../helpers/github-spec.ts';
import { example, githubBed, INSTALLATION, pushPayload, REPO, WEBHOOK_SECRET } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

const CONFIG = 'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 1\nbranches: [main]\n';
const QUEUE = `github:${REPO}@main`;

offline();

function stubWrites(bed: Awaited<ReturnType<typeof githubBed>>) {
  // a commit pushed straight to the branch belongs to no pull request: GitHub answers an empty list
  bed.api.get(/\/commits\/[0-9a-f]{40}\/pulls/).reply(200, []);
  bed.api.get(/check-runs/).reply(200, checkRunList());
  bed.api.post(/check-runs/).reply(201, checkRun({ id: 1 }));
}

describe('GitHub webhooks', () => {
  it('applies a redelivered push once', async () => {
    const bed = await githubBed(CONFIG);
    stubWrites(bed);
    bed.api.post(/dispatches/).reply(200, dispatchDetails(1));
    const push = pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'direct push' }]);
    await bed.receive('push', push, 'same-delivery');
    const before = JSON.stringify((await readQueue(bed.store, QUEUE))!.state);
    // a direct push's author is its commit's, with the address a culprit's mail goes to
    expect((await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}@${'a'.repeat(40)}`]).toMatchObject({
      author: 'dev',
      authorEmail: 'dev@example.invalid',
    });
    await bed.receive('push', push, 'same-delivery');
    expect(JSON.stringify((await readQueue(bed.store, QUEUE))!.state)).toBe(before);
    expect(bed.sent.filter((s) => s.path.endsWith('/dispatches'))).toHaveLength(1);
    expect((await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}@${'a'.repeat(40)}`]).toMatchObject({
      title: 'direct push',
    });
  });

  it('notes on the queues of a repository the App is taken off that no new change will come', async () => {
    const bed = await githubBed(CONFIG);
    stubWrites(bed);
    bed.api.post(/dispatches/).reply(200, dispatchDetails(42));
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    const removed = example<Record<string, any>>('installation_repositories', (e) => e.action === 'removed');
    await bed.receive('installation_repositories', { ...removed, repositories_removed: [{ full_name: 'other/repo' }] });
    expect((await readQueue(bed.store, QUEUE))!.notices.filter((n) => n.code === 'app-removed')).toEqual([]);
    await bed.receive('installation_repositories', { ...removed, repositories_removed: [{ full_name: REPO }] });
    expect((await readQueue(bed.store, QUEUE))!.notices.find((n) => n.code === 'app-removed')?.message).toBe(
      `the GitHub App was taken off ${REPO}: no new change of it comes to this queue, and its verdicts cannot be posted there`,
    );
  });

  it('ignores a workflow_run for a run it does not know, and a second one for a finished run', async () => {
    const bed = await githubBed(CONFIG);
    stubWrites(bed);
    bed.api.post(/dispatches/).reply(200, dispatchDetails(42));
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    const wr = (id: number, conclusion: string) => {
      const p = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
      p.workflow_run = { ...p.workflow_run, id, display_title: 'Some other workflow', conclusion };
      p.installation = { id: INSTALLATION };
      return p;
    };
    const before = JSON.stringify((await readQueue(bed.store, QUEUE))!.state);
    await bed.receive('workflow_run', wr(999, 'failure'));
    expect(JSON.stringify((await readQueue(bed.store, QUEUE))!.state)).toBe(before);
    await bed.receive('workflow_run', wr(42, 'success'));
    const after = (await readQueue(bed.store, QUEUE))!;
    expect(after.state.changes[`github:${REPO}@${'a'.repeat(40)}`]!.verdict).toBe('passed');
    await bed.receive('workflow_run', wr(42, 'failure'));
    expect((await readQueue(bed.store, QUEUE))!.state.changes[`github:${REPO}@${'a'.repeat(40)}`]!.verdict).toBe(
      'passed',
    );
  });

  it('treats a cancelled workflow run as an infra error and dispatches again', async () => {
    const bed = await githubBed(CONFIG);
    stubWrites(bed);
    let id = 100;
    bed.api.post(/dispatches/).reply(200, () => dispatchDetails(++id));
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    const p = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
    p.workflow_run = { ...p.workflow_run, id: 101, conclusion: 'cancelled' };
    p.installation = { id: INSTALLATION };
    await bed.receive('workflow_run', p);
    const runs = Object.values((await readQueue(bed.store, QUEUE))!.state.runs);
    expect(runs.map((r) => [r.state, r.attempt])).toEqual([
      ['error', 1],
      ['running', 2],
    ]);
  });

  it('falls back to a dispatch without return_run_details when GitHub Enterprise Server rejects the field', async () => {
    const bed = await githubBed(CONFIG, 'https://ghe.example.com/api/v3', { GHE_HOST: 'ghe.example.com' });
    stubWrites(bed);
    let calls = 0;
    bed.api
      .post(/dispatches/)
      .reply(() =>
        ++calls === 1
          ? [422, { message: 'Invalid request.\n\n"return_run_details" is not a permitted key.' }]
          : [204, ''],
      );
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    const d = bed.sent.filter((s) => s.path.endsWith('/dispatches'));
    expect(d.map((x) => 'return_run_details' in x.body)).toEqual([true, false]);
    const [run] = Object.values((await readQueue(bed.store, QUEUE))!.state.runs);
    expect(run!.state).toBe('dispatched');
    // the result is matched by the key in the run's title
    const p = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
    p.workflow_run = { ...p.workflow_run, id: 555, display_title: `OST ${run!.key}`, conclusion: 'success' };
    p.installation = { id: INSTALLATION };
    await bed.receive('workflow_run', p);
    expect((await readQueue(bed.store, QUEUE))!.state.runs[run!.key]!.state).toBe('passed');
  });

  it('posts a failed "ost-gate config" check for an invalid config and keeps the last good one', async () => {
    let config = CONFIG;
    const bed = await githubBed(() => config);
    stubWrites(bed);
    bed.api.post(/dispatches/).reply(200, dispatchDetails(1));
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    config = 'ci:\n  provider: travis\nbatchh: 1\n';
    await bed.receive(
      'push',
      pushPayload('a'.repeat(40), [{ id: 'b'.repeat(40), message: 'y', files: ['.github/ost-gate.yml'] }]),
    );
    const check = bed.sent.find(
      (s) => s.method === 'POST' && s.path.endsWith('/check-runs') && s.body.name === 'ost-gate config',
    )!;
    expect(check.body).toMatchObject({ conclusion: 'failure', head_sha: 'b'.repeat(40) });
    const summary = String((check.body.output as { summary: string }).summary);
    expect(summary).toMatch(/ci\.provider: got "travis"/);
    expect(summary).toMatch(/unknown key "batchh"/);
    expect(summary).toMatch(/last good config stays in force/);
    const file = (await readQueue(bed.store, QUEUE))!;
    expect(file.ci?.provider).toBe('github-actions');
    expect(file.notices.find((n) => n.code === 'config-invalid')?.message).toMatch(/ci\.provider: got "travis"/);
    expect(Object.keys(file.state.changes)).toEqual([
      `github:${REPO}@${'a'.repeat(40)}`,
      `github:${REPO}@${'b'.repeat(40)}`,
    ]);
  });

  it('does not gate a repository without a config', async () => {
    const bed = await githubBed('');
    nock.cleanAll();
    const api = nock('https://api.github.com').persist();
    api.post(`/app/installations/${INSTALLATION}/access_tokens`).reply(201, installationToken());
    api.get(/contents/).reply(404, githubError('Not Found'));
    await bed.receive('push', pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
    expect(await bed.store.listQueues()).toEqual([]);
  });

  it('rejects a bad signature with 401 and malformed payloads without a 500, recording nothing', async () => {
    const bed = await githubBed(CONFIG);
    const server = createHttpServer({ engine: bed.engine, log: silentLogger, mounts: [bed.host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    nock.enableNetConnect('127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
      const body = JSON.stringify(pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]));
      const post = (signature: string) =>
        fetch(url, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': 'd1',
            'x-hub-signature-256': signature,
          },
        });
      const r1 = await post('sha256=' + '0'.repeat(64));
      expect(r1.status, await r1.clone().text()).toBe(401);
      expect((await post(sign('wrong-secret', body))).status).toBe(401);
      expect(await bed.store.listQueues()).toEqual([]);
      // signed but malformed: bad JSON is a 400, and so is a payload missing the fields the app reads
      const bad = await fetch(url, {
        method: 'POST',
        body: '{nope',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-github-delivery': 'd2',
          'x-hub-signature-256': sign(WEBHOOK_SECRET, '{nope'),
        },
      });
      expect(bad.status).toBe(400);
      for (const event of ['push', 'workflow_run', 'issue_comment', 'pull_request']) {
        const empty = await fetch(url, {
          method: 'POST',
          body: '{"action":"completed"}',
          headers: {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': `d-${event}`,
            'x-hub-signature-256': sign(WEBHOOK_SECRET, '{"action":"completed"}'),
          },
        });
        expect([event, empty.status]).toEqual([event, 400]);
      }
      expect(await bed.store.listQueues()).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('app.yml asks for exactly the events the app handles and the permissions it uses', async () => {
    const manifest = parse(await readFile(join(import.meta.dirname, '..', '..', 'app.yml'), 'utf8')) as {
      default_events: string[];
      default_permissions: Record<string, string>;
    };
    const source = await readFile(join(import.meta.dirname, '..', '..', 'src', 'hosts', 'github', 'app.ts'), 'utf8');
    const handled = [...source.matchAll(/'([a-z_]+)(?:\.[a-z_]+)?'/g)]
      .map((m) => m[1]!)
      .filter(
        (e) =>
          manifest.default_events.includes(e) ||
          [
            'push',
            'pull_request',
            'workflow_run',
            'issue_comment',
            'pull_request_review',
            'pull_request_review_comment',
            'installation',
            'installation_repositories',
          ].includes(e),
      );
    expect([...new Set(handled)].sort()).toEqual([...manifest.default_events].sort());
    expect(manifest.default_permissions).toEqual({
      // editing a commit comment (the verdict on a direct push, reported again) needs contents: write
      contents: 'write',
      pull_requests: 'write',
      issues: 'write',
      checks: 'write',
      actions: 'write',
      metadata: 'read',
    });
  });
});

describe('payload checks', () => {
  const handled = [
    'push',
    'workflow_run',
    'issue_comment',
    'pull_request_review',
    'pull_request_review_comment',
    'pull_request',
  ];
  it.each(handled)('accepts every real %s example of @octokit/webhooks-examples', (event) => {
    const group = (examples as unknown as { name: string; examples: unknown[] }[]).find((g) => g.name === event)!;
    expect(group.examples.length).toBeGreaterThan(0);
    expect(group.examples.map((e) => payloadProblem(event, e))).toEqual(group.examples.map(() => null));
  });

  it.each([
    ['push', [], /not a JSON object/],
    [
      'push',
      { ref: 'refs/heads/main', before: 'x', after: 'y', repository: { full_name: 'o/r' }, commits: 'no' },
      /before/,
    ],
    [
      'push',
      { ref: 'r', before: '0'.repeat(40), after: '1'.repeat(40), repository: { full_name: 'o/r' }, commits: 'x' },
      /commits/,
    ],
    ['workflow_run', { repository: { full_name: 'o/r' }, workflow_run: { id: 'x' } }, /workflow_run\.id/],
    // found by the fuzz test: a commit whose author is null
    [
      'push',
      {
        ...pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]),
        commits: [
          {
            ...(pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]).commits as object[])[0],
            author: null,
          },
        ],
      },
      /commits\.0\.author/,
    ],
    ['issue_comment', { repository: { full_name: '../../etc' } }, /repository\.full_name/],
  ])('refuses a malformed %s payload', (event, payload, why) => {
    expect(payloadProblem(event, payload)).toMatch(why);
  });
});

describe('every real payload of every event the app subscribes to', () => {
  it('goes through the signed endpoint without a 5xx', async () => {
    const manifest = parse(await readFile(join(import.meta.dirname, '..', '..', 'app.yml'), 'utf8')) as {
      default_events: string[];
    };
    const bed = await githubBed(CONFIG);
    // the GitHub API answers every request with the success its description documents
    for (const method of ['get', 'post', 'patch'] as const)
      bed.api[method](/.*/).reply((uri) => documentedReply(DOTCOM, method.toUpperCase(), uri) as [number, nock.Body]);
    const server = createHttpServer({ engine: bed.engine, log: silentLogger, mounts: [bed.host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    nock.enableNetConnect('127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
      const groups = examples as unknown as { name: string; examples: Record<string, unknown>[] }[];
      let sent = 0;
      for (const event of manifest.default_events) {
        for (const payload of groups.find((g) => g.name === event)?.examples ?? []) {
          // delivered to this App's installation
          const body = JSON.stringify(
            payload.installation ? { ...payload, installation: { id: INSTALLATION } } : payload,
          );
          const res = await fetch(url, {
            method: 'POST',
            body,
            headers: {
              'content-type': 'application/json',
              'x-github-event': event,
              'x-github-delivery': `real-${event}-${sent++}`,
              'x-hub-signature-256': sign(WEBHOOK_SECRET, body),
            },
          });
          expect(res.status, `${event}: ${await res.clone().text()}`).toBeLessThan(500);
          await bed.engine.idle();
        }
      }
      expect(sent).toBeGreaterThan(20);
    } finally {
      server.close();
    }
  });
});
