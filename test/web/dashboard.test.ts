// The dashboard without a browser: escaping, the token, search, 404s, and the metrics endpoint.
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { silentLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { Metrics } from '../../src/web/metrics.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { sign } from '../../src/http/signature.ts';
import { externalHref } from '../../src/web/dashboard/format.ts';
import { githubChangeLabel } from '../../src/hosts/github/ids.ts';
import { closedAfterEach, noopPerformer } from '../helpers/web.ts';

const servers = closedAfterEach();

async function setup(token?: string) {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-dash-')));
  let ref: Engine | null = null;
  const metrics = new Metrics(() => ref);
  const engine = new Engine({
    store,
    performer: noopPerformer,
    observer: metrics.observe,
    settingsFor: () => ({ maxParallel: 1 }),
  });
  ref = engine;
  const sha = 'abcdef1234567890abcdef1234567890abcdef12';
  await engine.submit('q', {
    type: 'merged',
    at: 0,
    stream: { host: 'github', project: 'o/r', branch: 'main' },
    changes: [{ id: 'github:o/r#7', sha, number: 7, title: '<img src=x onerror=alert(1)>' }],
  });
  const server = createHttpServer({
    engine,
    log: silentLogger,
    metrics,
    dashboardToken: token,
    callbackSecret: 's',
    labelOf: githubChangeLabel,
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sha };
}

describe('dashboard pages', () => {
  it('escapes titles everywhere and works without JavaScript (the content is in the HTML)', async () => {
    const { base } = await setup();
    for (const path of ['/', '/queues/q', `/changes/${encodeURIComponent('github:o/r#7')}`]) {
      const html = await (await fetch(base + path)).text();
      expect(html).not.toContain('<img src=x');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).toMatch(/<main id="main"/);
    }
  });

  it('answers a trends page per span, and 400 naming the spans for another', async () => {
    const { base } = await setup();
    for (const span of ['7d', '30d', '1y']) {
      const res = await fetch(`${base}/queues/q/trends?span=${span}`);
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).toContain('<h1>Trends of q</h1>');
      expect(page).toMatch(/<main id="main"/);
      expect(page.match(/<section class="chart"/g)).toHaveLength(6);
    }
    const bad = await fetch(`${base}/queues/q/trends?span=2w`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe('span must be one of 7d, 30d, 1y, got "2w"');
    expect((await fetch(`${base}/queues/nope/trends`)).status).toBe(404);
  });

  it('links every change and queue (the escaper never silently drops a link target)', async () => {
    const warn = vi.spyOn(console, 'warn');
    const { base } = await setup();
    const overview = await (await fetch(`${base}/`)).text();
    expect(overview).toContain('<a href="/queues/q">q</a>');
    const queue = await (await fetch(`${base}/queues/q`)).text();
    expect(queue).toContain(`<a href="/changes/${encodeURIComponent('github:o/r#7')}">#7</a>`);
    const change = await (await fetch(`${base}/changes/${encodeURIComponent('github:o/r#7')}`)).text();
    expect(change).toContain('in queue <a href="/queues/q">q</a>');
    expect(overview + queue + change).not.toMatch(/href=""/);
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  it('lets only http and https links from CI or a code host into an href, escaped', () => {
    expect(externalHref('https://ci.example/job/ost/12/?a=1&b="2"')).toBe(
      'https://ci.example/job/ost/12/?a=1&amp;b=&quot;2&quot;',
    );
    expect(externalHref('http://jenkins:8080/job/1')).toBe('http://jenkins:8080/job/1');
    for (const bad of ['javascript:alert(1)', 'data:text/html,<b>', 'not a url', '', null, undefined])
      expect(externalHref(bad)).toBe('#');
  });

  it('serves only <main> to the live-update poll', async () => {
    const { base } = await setup();
    const partial = await (await fetch(`${base}/queues/q`, { headers: { 'x-ost-partial': '1' } })).text();
    expect(partial.startsWith('<h1>Queue q</h1>')).toBe(true);
  });

  it('finds changes by PR number, #number, change id and sha prefix', async () => {
    const { base, sha } = await setup();
    for (const q of ['7', '#7', 'github:o/r#7', sha.slice(0, 8)]) {
      const res = await fetch(`${base}/search?q=${encodeURIComponent(q)}`, { redirect: 'manual' });
      expect([q, res.status, res.headers.get('location')]).toEqual([
        q,
        302,
        `/changes/${encodeURIComponent('github:o/r#7')}`,
      ]);
    }
    expect(await (await fetch(`${base}/search?q=nothing`)).text()).toContain('No change matches');
    expect((await fetch(`${base}/queues/nope`)).status).toBe(404);
    expect((await fetch(`${base}/changes/nope`)).status).toBe(404);
  });

  it('needs OST_DASHBOARD_TOKEN when it is set, and remembers it in a cookie', async () => {
    const { base } = await setup('dash-secret');
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/queues`)).status).toBe(401);
    const ok = await fetch(`${base}/?token=dash-secret`);
    expect(ok.status).toBe(200);
    const cookie = ok.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(`${base}/queues/q`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/queues`, { headers: { authorization: 'Bearer dash-secret' } })).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('exposes Prometheus metrics, counting webhook deliveries by source and result', async () => {
    const { base } = await setup();
    await fetch(`${base}/api/ci/callback`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-ost-signature-256': 'sha256=bad' },
    });
    const body = '{"key":"nope.1","status":"success"}';
    await fetch(`${base}/api/ci/callback`, {
      method: 'POST',
      body,
      headers: { 'x-ost-signature-256': sign('s', body) },
    });
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/ost_queue_depth\{queue="q"\} 1/);
    expect(text).toMatch(/ost_runs_dispatched_total\{queue="q",kind="batch"\} 1/);
    expect(text).toContain('ost_webhook_deliveries_total{source="ci-callback",result="401"} 1');
    expect(text).toContain('ost_webhook_deliveries_total{source="ci-callback",result="accepted"} 1');
    for (const name of [
      'ost_runs_finished_total',
      'ost_verdicts_total',
      'ost_time_to_verdict_seconds',
      'ost_flakes_detected_total',
      'ost_infra_retries_total',
    ])
      expect(text).toContain(`# TYPE ${name}`);
  });
});
