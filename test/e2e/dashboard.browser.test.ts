// The dashboard in a real browser (Debian's chromium, driven by playwright-core) during a scripted
// bisection: the running prefix, the suspect and the final culprit appear as they happen, and a
// title with <script> is shown as text. (The README's picture comes from the demo: npm run screenshot.)
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreEvent, DispatchSpec } from '../../src/core/index.ts';

import type { Dispatcher } from '../../src/engine/effects.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/serve.ts';
import { configRules } from '../../src/registry.ts';

const CHROMIUM = '/usr/bin/chromium';
const QUEUE = 'git:app@main';
const S = { host: 'git', project: 'app', branch: 'main' };

describe.skipIf(!existsSync(CHROMIUM))('dashboard in chromium', () => {
  let browser: Browser;
  let server: RunningServer;
  const dispatched: DispatchSpec[] = [];
  const held: Dispatcher = { dispatch: async (run) => void dispatched.push(run) };

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const env = { OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-dash-')), OST_DASHBOARD_REFRESH_MS: '150' };
    server = await startServer({
      env,
      config: configRules.validateServer({ tick: 60_000 }),
      log: silentLogger,
      port: 0,
      dispatchers: { 'command:held': held },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const submit = (event: CoreEvent) =>
    server.engine.submit(QUEUE, event, { setup: { ci: { provider: 'command:held' } } });
  const finish = async (fails: (run: DispatchSpec) => boolean) => {
    const file = (await server.engine.reads.queue(QUEUE))!;
    const open = dispatched.filter((r) => ['dispatched', 'running'].includes(file.state.runs[r.key]?.state ?? ''));
    for (const r of open)
      await submit({
        type: 'run-finished',
        at: Date.now(),
        key: r.key,
        status: fails(r) ? 'failure' : 'success',
        url: `https://ci.example.org/${r.key}`,
      });
  };
  const holdsC3 = (r: DispatchSpec) => r.changes.includes('c3') || ['c3', 'c4'].includes(r.end);

  it('shows the running prefix, then the suspect with its confidence, then the culprit', async () => {
    await submit({ type: 'configure', at: Date.now(), settings: { maxParallel: 2, confirm: 1, confidence: 0.999 } });
    await submit({
      type: 'merged',
      at: Date.now(),
      stream: S,
      before: 'base',
      after: 'sha-c4',
      changes: ['c1', 'c2', 'c3', 'c4'].map((id, i) => ({
        id,
        sha: `sha-${id}`,
        parent: i ? `sha-c${i}` : 'base',
        title: id === 'c3' ? 'refactor <script>alert(1)</script>' : `feature ${id}`,
      })),
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${server.url}/queues/${encodeURIComponent(QUEUE)}`);
    await page.getByRole('heading', { name: `Queue ${QUEUE}` }).waitFor();
    // the batch over all four changes is running
    await page.getByRole('row', { name: /feature c4 running ×1/ }).waitFor({ timeout: 5000 });
    await finish(holdsC3);
    // the batch failed: the range is searched, probes are running, and the page follows without a reload
    await page.getByText('Searching 4 change(s) for the first failing one').waitFor({ timeout: 5000 });
    await page.getByRole('row', { name: /feature c4 failed ×1/ }).waitFor({ timeout: 5000 });
    await page
      .getByText(/running ×1/)
      .first()
      .waitFor({ timeout: 5000 });
    await finish(holdsC3);
    // c3 failed right after a passing prefix: it is the suspect, with a confidence, and confirmations run
    await page.getByText(/suspect, confidence \d+\.\d%/).waitFor({ timeout: 5000 });
    // markup is rendered, not shown as text: only the change title's <script> appears literally
    expect(await page.locator('main').innerText()).not.toContain('<span');
    await page
      .getByRole('table', { name: 'Each row is the prefix that ends at that change' })
      .getByRole('row', { name: /refactor <script>alert\(1\)<\/script>/ })
      .waitFor({ timeout: 5000 });
    for (let i = 0; i < 4; i++) await finish(holdsC3);
    await page.getByRole('heading', { name: 'Broken: git:app@main' }).waitFor({ timeout: 5000 });
    await page
      .getByText(/culprit .*sha-c3|sha-c3 refactor/)
      .first()
      .waitFor({ timeout: 5000 });
    // the change page, as linked from /ost status
    await page.goto(`${server.url}/changes/c3`);
    await page.getByRole('heading', { name: 'Verdict: culprit' }).waitFor({ timeout: 5000 });
    await page.getByRole('table', { name: /Evidence/ }).waitFor({ timeout: 5000 });
    // the overview and search
    await page.goto(`${server.url}/search?q=c3`);
    expect(page.url()).toMatch(/\/changes\/c3$/);
    await page.goto(`${server.url}/`);
    await page.getByText('culprits found').waitFor({ timeout: 5000 });
    expect(dialogs).toEqual([]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/ost_verdicts_total\{queue="git:app@main",verdict="culprit"\} 1/);
    expect(metrics).toMatch(/ost_runs_dispatched_total\{queue="git:app@main"\} \d+/);
    expect(metrics).toMatch(/ost_queue_depth\{queue="git:app@main"\} 0/);
    expect(metrics).toMatch(/ost_time_to_verdict_seconds_count\{queue="git:app@main"\} 4/);
  }, 60_000);
});
