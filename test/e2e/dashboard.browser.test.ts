// The dashboard in a real browser (Debian's chromium, driven by playwright-core) during a scripted
// bisection: the running prefix, the suspect and the final culprit appear as they happen, and a
// title with <script> is shown as text. (The README's picture comes from the demo: npm run screenshot.)
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchSpec } from '../../src/core/index.ts';

import type { RunningServer } from '../../src/serve.ts';
import { hasChromium, heldServer, holdsC3, launchChromium, type HeldServer } from '../helpers/browser.ts';

const QUEUE = 'git:app@main';

describe.skipIf(!hasChromium)('dashboard in chromium', () => {
  let browser: Browser;
  let held: HeldServer;
  let server: RunningServer;

  beforeAll(async () => {
    browser = await launchChromium();
    held = await heldServer(QUEUE);
    server = held.server;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const finish = (fails: (run: DispatchSpec) => boolean) =>
    held.finish(fails, (key) => `https://ci.example.org/${key}`);

  it('shows the running prefix, then the suspect with its confidence, then the culprit', async () => {
    await held.mergeFour((id) => (id === 'c3' ? 'refactor <script>alert(1)</script>' : `feature ${id}`));
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
    expect(metrics).toMatch(/ost_runs_dispatched_total\{queue="git:app@main",kind="batch"\} \d+/);
    expect(metrics).toMatch(/ost_queue_depth\{queue="git:app@main"\} 0/);
    expect(metrics).toMatch(/ost_time_to_verdict_seconds_count\{queue="git:app@main"\} 4/);
  }, 60_000);
});
