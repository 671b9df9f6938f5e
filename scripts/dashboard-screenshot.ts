// Takes the README's dashboard picture (docs/dashboard.png) from a running server, in Debian's
// chromium: `npm run demo -- --keep --port 8930`, then `npm run screenshot -- http://127.0.0.1:8930`.
// It opens the first queue's page and keeps the part from the top through the run timeline.
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const base = process.argv[2];
if (!base) {
  console.error('usage: npm run screenshot -- <server address, e.g. http://127.0.0.1:8930>');
  process.exit(2);
}
const queues = (await (await fetch(`${base}/api/queues`)).json()) as { name: string }[];
if (!queues[0]) {
  console.error(`${base} has no queue yet: run the demo first (npm run demo -- --keep)`);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(`${base}/queues/${encodeURIComponent(queues[0].name)}`);
  const timeline = await page.locator('#timeline ul.legend').boundingBox();
  if (!timeline) throw new Error('the queue page has no run timeline: did the demo run?');
  const out = join(import.meta.dirname, '..', 'docs', 'dashboard.png');
  await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1100, height: timeline.y + timeline.height + 8 } });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
}
