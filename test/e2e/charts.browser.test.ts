// The queue page's run timeline and the trends page in a real browser (Debian's chromium driven by
// playwright-core) during a bisection on a running server: one bar per run the API lists, with its
// outcome and log link, following the page without a reload; every trends chart with its table; and
// both pages checked by axe-core in the light and dark schemes. Screenshots are left in
// test-artifacts/.
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispatchSpec } from '../../src/core/index.ts';
import type { RunningServer } from '../../src/serve.ts';
import { hasChromium, heldServer, holdsC3, launchChromium, type HeldServer } from '../helpers/browser.ts';

const QUEUE = 'git:app@main';
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface ApiRun {
  key: string;
  state: string;
  flake?: boolean;
}

/** The outcome class the timeline gives a run of the API. */
function outcomeOf(run: ApiRun): string {
  if (run.state === 'dispatched' || run.state === 'running') return 'running';
  if (run.state === 'failed') return run.flake ? 'flake' : 'failed';
  if (run.state === 'timed-out') return 'error';
  return run.state;
}

/** axe-core's serious and critical findings on the page as it is, as `rule: where` lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as { id: string; impact: string; nodes: { target: string[] }[] }[];
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe.skipIf(!hasChromium)('run timeline and trends in chromium', () => {
  let browser: Browser;
  let held: HeldServer;
  let server: RunningServer;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    held = await heldServer(QUEUE);
    server = held.server;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const finish = (fails: (run: DispatchSpec) => boolean) => held.finish(fails);
  const apiRuns = async () =>
    ((await (await fetch(`${server.url}/api/queues/${encodeURIComponent(QUEUE)}`)).json()) as { runs: ApiRun[] }).runs;

  /** Waits until the timeline shows exactly the API's runs, each with its outcome and log link. */
  async function timelineMatchesApi(page: Page): Promise<ApiRun[]> {
    let runs: ApiRun[] = [];
    await expect
      .poll(
        async () => {
          runs = await apiRuns();
          const bars = await page.locator('rect.run-bar').evaluateAll((els) =>
            els.map((e) => ({
              key: e.getAttribute('data-run'),
              outcome: e.getAttribute('data-outcome'),
              href: e.closest('a')?.getAttribute('href') ?? null,
            })),
          );
          return bars.sort((a, b) => String(a.key).localeCompare(String(b.key)));
        },
        { timeout: 10_000, interval: 100 },
      )
      .toEqual(
        await apiRuns().then((r) =>
          r
            .map((run) => ({
              key: run.key,
              outcome: outcomeOf(run),
              href: `/api/runs/${encodeURIComponent(run.key)}/log`,
            }))
            .sort((a, b) => a.key.localeCompare(b.key)),
        ),
      );
    return runs;
  }

  it('draws one bar per run during a bisection, then the trends with their tables, with no serious accessibility finding', async () => {
    await held.mergeFour((id) => `feature ${id}`);
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${server.url}/queues/${encodeURIComponent(QUEUE)}`);
    await page.getByRole('heading', { name: 'Run timeline' }).waitFor({ timeout: 5000 });
    expect(await timelineMatchesApi(page)).toHaveLength(1);
    // the batch fails: the search's probes appear beside it without a reload
    await finish(holdsC3);
    const during = await timelineMatchesApi(page);
    expect(during.length).toBeGreaterThan(1);
    expect(during.map(outcomeOf)).toContain('failed');
    expect(during.map(outcomeOf)).toContain('running');
    await page.getByText('Searching 4 change(s) for the first failing one').waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-bisection.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    for (let i = 0; i < 6; i++) await finish(holdsC3);
    await page.getByRole('heading', { name: 'Broken: git:app@main' }).waitFor({ timeout: 5000 });
    const after = await timelineMatchesApi(page);
    expect(after.length).toBeGreaterThan(during.length);
    // a verdict is marked on the axis
    expect(await page.locator('.verdict-mark.verdict-culprit').count()).toBe(1);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'timeline-dark.png'), fullPage: true });

    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('link', { name: 'Trends over time' }).click();
    await page.getByRole('heading', { name: `Trends of ${QUEUE}` }).waitFor({ timeout: 5000 });
    for (const title of [
      'Runs per change',
      'Time to verdict',
      'Failures and flakes',
      'Flake rate',
      'Culprits found',
      'Changes merged and queue depth',
    ]) {
      const chart = page.getByRole('region', { name: title });
      await expect.poll(() => chart.getByRole('img', { name: new RegExp(title) }).count()).toBe(1);
      expect(await chart.getByRole('table', { name: `The numbers behind "${title}"` }).count()).toBe(1);
    }
    // today's row holds what happened: 4 changes merged, one culprit
    const merged = page.getByRole('table', { name: 'The numbers behind "Changes merged and queue depth"' });
    expect(await merged.locator('tbody tr').last().innerText()).toMatch(/\t4\t4$/);
    const culprits = page.getByRole('table', { name: 'The numbers behind "Culprits found"' });
    expect(await culprits.locator('tbody tr').last().innerText()).toMatch(/\t1$/);
    await page.screenshot({ path: join(ARTIFACTS, 'trends.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('link', { name: '1 year' }).click();
    await expect.poll(() => page.locator('section.chart').count()).toBe(6);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'trends-year-dark.png'), fullPage: true });
  }, 90_000);
});
