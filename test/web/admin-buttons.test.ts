// The operator's buttons on the dashboard: the admin token is typed once into a sign-in form (POST),
// which sets a session cookie; the buttons are forms carrying the session's CSRF token. No address,
// redirect or polled URL ever holds the token; wrong tokens are rate-limited per address; a request
// without the session and its CSRF token (a page elsewhere) changes nothing.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/web/metrics.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { WRONG_TOKENS_ALLOWED } from '../../src/web/token-guard.ts';
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
const changePage = `/changes/${encodeURIComponent(CHANGE)}`;
const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];

/** Signs in through the form, as a browser does; returns the session cookie and the redirect. */
async function signIn(base: string, token: string, back = queuePage) {
  const res = await fetch(`${base}/admin/sign-in`, {
    method: 'POST',
    body: new URLSearchParams({ token, back }),
    redirect: 'manual',
  });
  const cookie = res.headers.get('set-cookie');
  return { res, cookie, session: cookie ? cookie.split(';')[0]! : null };
}

describe('dashboard sign-in and buttons', () => {
  it('signs in with a form, sets an HttpOnly SameSite=Strict cookie, and pause then resume show their reply once', async () => {
    const { store, base } = await setup();
    const plain = await (await fetch(`${base}${queuePage}?token=dash`)).text();
    expect(plain).not.toMatch(/name="verb"/);
    expect(plain).toMatch(/href="\/admin\/sign-in\?back=/);
    const form = await fetch(`${base}/admin/sign-in?back=${encodeURIComponent(queuePage)}`);
    expect(await form.text()).toMatch(/<form method="post" action="\/admin\/sign-in">[\s\S]*type="password"/);

    const { res, cookie, session } = await signIn(base, TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(queuePage);
    const [pair, ...attributes] = (cookie ?? '').split('; ');
    expect(pair).toMatch(/^ost_admin=[\w-]{40,}$/);
    expect(attributes.sort()).toEqual(['HttpOnly', 'Max-Age=14400', 'Path=/', 'SameSite=Strict']);
    expect(cookie).not.toContain(TOKEN);
    const headers = { cookie: `${session}; ost_token=dash` };
    const page = await (await fetch(`${base}${queuePage}`, { headers })).text();
    expect(hidden(page, 'verb')).toBe('pause');
    expect(page).not.toContain(TOKEN);
    const pressed = await fetch(`${base}${queuePage}/commands`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ csrf: hidden(page, 'csrf')!, verb: 'pause', back: hidden(page, 'back')! }),
      redirect: 'manual',
    });
    expect(pressed.status).toBe(303);
    expect(pressed.headers.get('location')).toBe(queuePage);
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
    const after = await (await fetch(`${base}${queuePage}`, { headers })).text();
    expect(after).toMatch(/<p class="said" role="status">[^<]*paused/);
    expect(hidden(after, 'verb')).toBe('resume');
    // the reply is shown once: the next load of the page has none
    expect(await (await fetch(`${base}${queuePage}`, { headers })).text()).not.toMatch(/class="said"/);
  });

  it('on a change page: retry, not-culprit, priority and dequeue, each for that change', async () => {
    const { store, base } = await setup();
    const { session } = await signIn(base, TOKEN, changePage);
    const headers = { cookie: `${session}; ost_token=dash` };
    const page = await (await fetch(`${base}${changePage}`, { headers })).text();
    expect([...page.matchAll(/name="verb" value="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'retry',
      'not-culprit',
      'priority',
      'dequeue',
    ]);
    const res = await fetch(`${base}${queuePage}/commands`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ csrf: hidden(page, 'csrf')!, verb: 'dequeue', change: CHANGE, back: changePage }),
      redirect: 'manual',
    });
    expect(res.headers.get('location')).toBe(changePage);
    expect((await readQueue(store, QUEUE))!.state.changes[CHANGE]!.verdict).toBe('skipped');
  });

  it('changes nothing for a form without the session, without its CSRF token, or on a server without a token', async () => {
    const { store, base } = await setup();
    const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${base}${queuePage}/commands`, {
        method: 'POST',
        body: new URLSearchParams(body),
        headers,
        redirect: 'manual',
      });
    expect((await post({ verb: 'pause' }, { cookie: 'ost_token=dash' })).status).toBe(401);
    expect((await post({ verb: 'pause', token: TOKEN })).status).toBe(401);
    const { session } = await signIn(base, TOKEN);
    const page = await (
      await fetch(`${base}${queuePage}`, { headers: { cookie: `${session}; ost_token=dash` } })
    ).text();
    const csrf = hidden(page, 'csrf')!;
    expect((await post({ verb: 'pause', csrf: 'forged' }, { cookie: session! })).status).toBe(403);
    expect((await post({ verb: 'frobnicate', csrf }, { cookie: session! })).status).toBe(400);
    // a "back" with a control character is refused before the command runs
    const injected = await post({ verb: 'pause', csrf, back: `${queuePage}\r\nSet-Cookie: x=1` }, { cookie: session! });
    expect(injected.status).toBe(400);
    expect((await readQueue(store, QUEUE))!.state.paused).toBeNull();
    // a "back" that leaves the dashboard is not followed
    const away = await post({ verb: 'pause', csrf, back: 'https://evil.example/' }, { cookie: session! });
    expect(away.headers.get('location')).toBe(queuePage);
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
    // signing out ends the session
    await fetch(`${base}/admin/sign-out`, {
      method: 'POST',
      headers: { cookie: session! },
      body: new URLSearchParams({ csrf }),
      redirect: 'manual',
    });
    expect((await post({ verb: 'resume', csrf }, { cookie: session! })).status).toBe(401);
    const off = await setup(null);
    const refused = await fetch(`${off.base}${queuePage}/commands`, {
      method: 'POST',
      body: new URLSearchParams({ verb: 'pause', token: 'x' }),
    });
    expect(refused.status).toBe(403);
    expect((await readQueue(off.store, QUEUE))!.state.paused).toBeNull();
  });

  it('never keeps the token in an address: ?admin= goes to the sign-in form, and every page has Referrer-Policy', async () => {
    const { base } = await setup();
    const res = await fetch(`${base}${queuePage}?token=dash&admin=${TOKEN}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/sign-in?back=${encodeURIComponent(queuePage)}`);
    for (const path of ['/admin/sign-in', `${queuePage}?token=dash`, '/healthz', '/api/queues?token=dash'])
      expect((await fetch(`${base}${path}`)).headers.get('referrer-policy'), path).toBe('no-referrer');
    const failed = await signIn(base, 'wrong');
    expect(failed.res.headers.get('location')).toBe(`/admin/sign-in?back=${encodeURIComponent(queuePage)}&failed=1`);
    expect(failed.cookie).toBeNull();
  });

  it(`rate-limits wrong tokens per address: after ${WRONG_TOKENS_ALLOWED} a minute, 429 with Retry-After`, async () => {
    const { base } = await setup();
    for (let i = 0; i < WRONG_TOKENS_ALLOWED - 1; i++) expect((await signIn(base, `wrong-${i}`)).res.status).toBe(303);
    expect((await fetch(`${base}/api/queues?token=wrong`)).status).toBe(401);
    const dashboard = await fetch(`${base}/api/queues?token=wrong-again`);
    expect(dashboard.status).toBe(429);
    expect(Number(dashboard.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await dashboard.json()).error).toMatch(/too many wrong tokens from this address; try again in \d+ s/);
    // even the right token waits for the minute to pass
    const right = await signIn(base, TOKEN);
    expect(right.res.status).toBe(429);
    const api = await fetch(`${base}/api/queues/${encodeURIComponent(QUEUE)}/commands`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
      body: '{"verb":"pause"}',
    });
    expect(api.status).toBe(429);
    expect((await fetch(`${base}/api/queues?token=dash`)).status).toBe(429);
  });

  it('marks its cookies Secure when a proxy says the request came over https', async () => {
    const { base } = await setup();
    const res = await fetch(`${base}/admin/sign-in`, {
      method: 'POST',
      headers: { 'x-forwarded-proto': 'https, http' },
      body: new URLSearchParams({ token: TOKEN, back: queuePage }),
      redirect: 'manual',
    });
    expect(res.headers.get('set-cookie')?.split('; ')).toContain('Secure');
    const page = await fetch(`${base}${queuePage}?token=dash`, { headers: { 'x-forwarded-proto': 'https' } });
    expect(page.headers.get('set-cookie')).toMatch(/^ost_token=dash; .*Secure/);
    const plain = await fetch(`${base}${queuePage}?token=dash`);
    expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('logs a wrong token at warn level with the address and which token, never the token', async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const { engine } = await queueWithOneChange({});
    const server = createHttpServer({
      engine,
      log,
      adminToken: TOKEN,
      metricsToken: 'm',
      metrics: new Metrics(() => engine),
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    servers.push(server);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await signIn(base, 'secret-guess-1');
    await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer secret-guess-2' } });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({ level: 40, remote: '127.0.0.1', which: 'admin', msg: 'wrong or missing admin token' }),
      expect.objectContaining({
        level: 40,
        remote: '127.0.0.1',
        which: 'metrics',
        msg: 'wrong or missing metrics token',
      }),
    ]);
    expect(lines.join('')).not.toMatch(/secret-guess/);
  });
});
