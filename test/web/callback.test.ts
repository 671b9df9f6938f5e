// Tests of the HTTP server: the signed CI callback, the queue API and health.
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreEvent } from '../../src/core/index.ts';
import type { QueueCi } from '../../src/config/repo.ts';
import { Engine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { sign } from '../../src/http/signature.ts';
import { closedAfterEach, noopPerformer } from '../helpers/web.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { CALLBACK_LIMIT } from '../../src/web/callback.ts';

const SECRET = 'test-callback-secret';
const servers = closedAfterEach();

async function setup(ci: QueueCi = { provider: 'jenkins', job: 'ost' }) {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-web-')));
  const engine = new Engine({ store, performer: noopPerformer, settingsFor: () => ({ maxParallel: 1 }) });
  const event: CoreEvent = {
    type: 'merged',
    at: 0,
    stream: { host: 'git', project: 'app', branch: 'main' },
    changes: [{ id: 'git:app@aaa', sha: 'aaa', title: '<script>alert(1)</script>' }],
  };
  await engine.submit('git:app@main', event, { setup: { ci: ci } });
  const key = Object.keys((await readQueue(store, 'git:app@main'))!.state.runs)[0]!;
  const server = createHttpServer({ engine, log: silentLogger, callbackSecret: SECRET });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (body: string, signature?: string | null) =>
    fetch(`${base}/api/ci/callback`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        ...(signature === null ? {} : { 'x-ost-signature-256': signature ?? sign(SECRET, body) }),
      },
    });
  const state = async () => JSON.stringify((await readQueue(store, 'git:app@main'))!.state);
  return { base, key, post, state, store };
}

describe('POST /api/ci/callback', () => {
  it('refuses a result for a run that was sent to GitHub Actions (D3), and changes nothing', async () => {
    const { key, post, state } = await setup({ provider: 'github-actions', workflow: 'ost.yml', repository: 'o/r' });
    const before = await state();
    const res = await post(JSON.stringify({ key, status: 'failure' }));
    expect(res.status).toBe(409);
    expect((await res.json()).error).toMatch(/was sent to github-actions:o\/r:ost\.yml/);
    expect(await state()).toBe(before);
  });

  it.each(['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'ftp://ci.example/1'])(
    'refuses a result whose url is %s (D10), and changes nothing',
    async (url) => {
      const { key, post, state } = await setup();
      const before = await state();
      const res = await post(JSON.stringify({ key, status: 'success', url }));
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/url: must be an http or https URL/);
      expect(await state()).toBe(before);
    },
  );

  it('records a signed result', async () => {
    const { key, post, store } = await setup();
    const res = await post(JSON.stringify({ key, status: 'success', url: 'https://ci.example/1' }));
    expect(res.status).toBe(200);
    const file = (await readQueue(store, 'git:app@main'))!;
    expect(file.state.runs[key]).toMatchObject({ state: 'passed', url: 'https://ci.example/1' });
    expect(file.state.changes['git:app@aaa']!.verdict).toBe('passed');
  });

  it.each([
    ['a missing signature', null, 401, /missing or bad/],
    ['a bad signature', 'sha256=' + '0'.repeat(64), 401, /missing or bad/],
    ['a signature of another body', sign(SECRET, '{}'), 401, /missing or bad/],
  ])('rejects %s with %i and changes nothing', async (_what, signature, status, message) => {
    const { key, post, state } = await setup();
    const before = await state();
    const res = await post(JSON.stringify({ key, status: 'failure' }), signature);
    expect(res.status).toBe(status);
    expect((await res.json()).error).toMatch(message);
    expect(await state()).toBe(before);
  });

  it('rejects bad JSON, a bad shape and an oversized body with a clear 4xx', async () => {
    const { key, post, state } = await setup();
    const before = await state();
    const bad = await post('{not json');
    expect([bad.status, (await bad.json()).error]).toEqual([400, expect.stringContaining('not JSON')]);
    const shape = await post(JSON.stringify({ key, status: 'maybe' }));
    expect([shape.status, (await shape.json()).error]).toEqual([400, expect.stringContaining('status')]);
    const big = await post(JSON.stringify({ key, status: 'success', pad: 'x'.repeat(CALLBACK_LIMIT) }));
    expect(big.status).toBe(413);
    expect(await state()).toBe(before);
  });

  it('records the failing tests a callback names, as ids or as a JUnit XML document', async () => {
    const { key, post, store } = await setup();
    const res = await post(
      JSON.stringify({ key, status: 'failure', tests: { failed: ['b.two', 'a.one'], passed: 40 } }),
    );
    expect(res.status).toBe(200);
    const run = (await readQueue(store, 'git:app@main'))!.state.runs[key]!;
    expect(run.tests).toEqual({ failed: ['a.one', 'b.two'], failedCount: 2, passed: 40 });
    expect(run.state).toBe('failed');

    const second = await setup();
    const junit =
      '<?xml version="1.0"?><testsuites><testsuite name="basic-suite">' +
      '<testcase classname="basic-suite/002_bootstrap" name="add_hosts"><failure message="boom"/></testcase>' +
      '<testcase classname="basic-suite/002_bootstrap" name="add_storage"/>' +
      '<testcase classname="basic-suite/004_basic" name="vm_run"><skipped/></testcase>' +
      '</testsuite></testsuites>';
    expect((await second.post(JSON.stringify({ key: second.key, status: 'failure', tests: { junit } }))).status).toBe(
      200,
    );
    const parsed = (await readQueue(second.store, 'git:app@main'))!.state.runs[second.key]!;
    expect(parsed.tests).toEqual({ failed: ['basic-suite/002_bootstrap.add_hosts'], failedCount: 1, passed: 1 });
  });

  it('refuses hostile or malformed JUnit XML in a callback with a 400, and changes nothing', async () => {
    const { key, post, state } = await setup();
    const before = await state();
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' +
      '<testsuite><testcase name="&lol2;"><failure/></testcase></testsuite>';
    for (const junit of [bomb, '<testsuite><testcase name="x">', '<html><body>not a report</body></html>']) {
      const res = await post(JSON.stringify({ key, status: 'failure', tests: { junit } }));
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/^invalid callback: tests: /);
    }
    expect(await state()).toBe(before);
  });

  it('accepts but ignores a result for an unknown run key', async () => {
    const { post, state } = await setup();
    const before = await state();
    const res = await post(JSON.stringify({ key: 'nope.1', status: 'failure' }));
    expect(res.status).toBe(202);
    expect(await state()).toBe(before);
  });
});

describe('API and dashboard', () => {
  it('lists queues and shows one with changes, runs and verdicts', async () => {
    const { base } = await setup();
    const list = await (await fetch(`${base}/api/queues`)).json();
    expect(list).toEqual([expect.objectContaining({ name: 'git:app@main', depth: 1, runs_in_flight: 1 })]);
    const q = await (await fetch(`${base}/api/queues/${encodeURIComponent('git:app@main')}`)).json();
    expect(q).toMatchObject({
      name: 'git:app@main',
      paused: null,
      changes: [{ id: 'git:app@aaa', stream: 'git:app@main', sha: 'aaa', state: 'testing' }],
      runs: [{ state: 'dispatched', refs: { app: 'aaa' } }],
      verdicts: [],
    });
    expect((await fetch(`${base}/api/queues/nope`)).status).toBe(404);
  });

  it('escapes titles in the dashboard and reports health', async () => {
    const { base, key, post } = await setup();
    await post(JSON.stringify({ key, status: 'success' }));
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('git:app@main');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect((await (await fetch(`${base}/healthz`)).json()).ok).toBe(true);
    expect((await fetch(`${base}/api/queues`, { method: 'DELETE' })).status).toBe(405);
  });
});
