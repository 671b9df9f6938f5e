// The operator's buttons on the dashboard: shown only on a page opened with ?admin=<OST_ADMIN_TOKEN>,
// each a form that POSTs the token in its body; a request without it (a page elsewhere, a cookie)
// changes nothing.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { CHANGE, QUEUE, queueWithOneChange } from '../helpers/queue.ts';
import { closedAfterEach } from '../helpers/web.ts';
import { readQueue } from '../../src/engine/replay.ts';

const TOKEN = 'admin-buttons-token';
const servers = closedAfterEach();

async function setup(adminToken: string | null = TOKEN) {
  const { store, engine } = await queueWithOneChange({ settingsFor: () => ({ maxParallel: 1 }) });
  const server = createHttpServer({
    engine,
    log: silentLogger,
    adminToken: adminToken ?? undefined,
    dashboardToken: 'dash',
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  return { store, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const queuePage = `/queues/${encodeURIComponent(QUEUE)}`;
const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];

describe('dashboard buttons', () => {
  it('appear only with the admin token, and pause then resume the queue with the reply shown', async () => {
    const { store, base } = await setup();
    const plain = await (await fetch(`${base}${queuePage}?token=dash`)).text();
    expect(plain).not.toMatch(/<form method="post"/);
    expect((await fetch(`${base}${queuePage}?token=dash&admin=wrong`)).status).toBe(401);
    const page = await (await fetch(`${base}${queuePage}?token=dash&admin=${TOKEN}`)).text();
    expect(hidden(page, 'verb')).toBe('pause');
    const pressed = await fetch(`${base}${queuePage}/commands`, {
      method: 'POST',
      body: new URLSearchParams({ token: hidden(page, 'token')!, verb: 'pause', back: hidden(page, 'back')! }),
      redirect: 'manual',
    });
    expect(pressed.status).toBe(303);
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
    const after = await (await fetch(`${base}${pressed.headers.get('location')}&token=dash`)).text();
    expect(after).toMatch(/<p class="said" role="status">[^<]*paused/);
    expect(hidden(after, 'verb')).toBe('resume');
  });

  it('on a change page: retry, not-culprit and dequeue, each for that change', async () => {
    const { store, base } = await setup();
    const page = await (await fetch(`${base}/changes/${encodeURIComponent(CHANGE)}?token=dash&admin=${TOKEN}`)).text();
    expect([...page.matchAll(/name="verb" value="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'retry',
      'not-culprit',
      'dequeue',
    ]);
    const res = await fetch(`${base}${queuePage}/commands`, {
      method: 'POST',
      body: new URLSearchParams({
        token: TOKEN,
        verb: 'dequeue',
        change: CHANGE,
        back: `/changes/${encodeURIComponent(CHANGE)}`,
      }),
      redirect: 'manual',
    });
    expect(res.headers.get('location')).toMatch(new RegExp(`^/changes/${encodeURIComponent(CHANGE)}\\?admin=`));
    expect((await readQueue(store, QUEUE))!.state.changes[CHANGE]!.verdict).toBe('skipped');
  });

  it('a form without the token, with only the dashboard cookie, or on a server without one changes nothing', async () => {
    const { store, base } = await setup();
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${base}${queuePage}/commands`, {
        method: 'POST',
        body: new URLSearchParams(body),
        headers,
        redirect: 'manual',
      });
    expect((await post({ verb: 'pause' }, { cookie: 'ost_token=dash' })).status).toBe(401);
    expect((await post({ verb: 'pause', token: 'guess' })).status).toBe(401);
    expect((await post({ verb: 'frobnicate', token: TOKEN })).status).toBe(400);
    // a "back" that leaves the dashboard is not followed
    const away = await post({ verb: 'pause', token: TOKEN, back: 'https://evil.example/' });
    expect(away.headers.get('location')).toMatch(/^\/queues\//);
    const off = await setup(null);
    const refused = await fetch(`${off.base}${queuePage}/commands`, {
      method: 'POST',
      body: new URLSearchParams({ verb: 'pause', token: 'x' }),
    });
    expect(refused.status).toBe(403);
    expect((await readQueue(off.store, QUEUE))!.state.paused).toBeNull();
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
  });
});
