// The running server against hostile requests (issue D1, D4, D5, D9, D11): a request line that is no
// URL, malformed percent-encoding, signed GitHub payloads without an event or of the wrong shape,
// floods of large unsigned bodies, tokens that must never reach the log, and /metrics behind a token.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unauthenticatedBodies } from '../../src/http/body.ts';
import { sign } from '../../src/http/signature.ts';
import { createLogger, silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { githubBed, pushPayload, WEBHOOK_SECRET } from '../helpers/github.ts';
import { offline } from '../helpers/network.ts';
import { Metrics } from '../../src/web/metrics.ts';

offline();

/** POSTs `size` bytes of unsigned body to the GitHub endpoint from a 64 KiB chunk; the status, or 0. */
function streamUnsigned(port: number, size: number): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let answer = '';
    const socket = connect(port, '127.0.0.1', async () => {
      socket.write(
        `POST /api/github/webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
          `X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`,
      );
      for (let sent = 0; sent < size && !socket.destroyed && !answer; sent += chunk.length) {
        if (!socket.write(chunk)) await new Promise((r) => socket.once('drain', r));
      }
    });
    socket.on('data', (d) => (answer += d));
    const done = () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? 0));
    socket.on('close', done);
    socket.on('error', done);
    socket.setTimeout(30_000, () => socket.destroy());
  });
}

/** Sends a raw request and returns the status line (or '' when the connection closed without one). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

describe('hostile HTTP requests', () => {
  const logged: string[] = [];
  const SECRETS = { dashboard: 'dash-SECRET-1', metrics: 'metrics-SECRET-2' };
  let base = '';
  let port = 0;
  let close = () => undefined as void;
  let bed: Awaited<ReturnType<typeof githubBed>>;

  beforeAll(async () => {
    bed = await githubBed('ci: {provider: jenkins, job: x}');
    const destination = new Writable({
      write(chunk, _enc, done) {
        logged.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ level: 'debug', destination });
    const metrics = new Metrics(() => bed.engine);
    const server = createHttpServer({
      engine: bed.engine,
      log,
      mounts: [
        bed.host.mount,
        { path: '/boom', source: 'test', handle: async () => Promise.reject(new Error('a handler failed')) },
      ],
      metrics,
      dashboardToken: SECRETS.dashboard,
      metricsToken: SECRETS.metrics,
      callbackSecret: 'cb',
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    nock.enableNetConnect('127.0.0.1');
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
    close = () => void server.close();
  });
  afterAll(() => close());
  // the server under test is on loopback; everything else stays refused
  beforeEach(() => nock.enableNetConnect('127.0.0.1'));

  const signed = (event: string | null, body: string) =>
    fetch(`${base}/api/github/webhooks`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        ...(event === null ? {} : { 'x-github-event': event }),
        'x-github-delivery': `d-${Math.random()}`,
        'x-hub-signature-256': sign(WEBHOOK_SECRET, body),
      },
    });

  it.each(['GET // HTTP/1.1', 'GET //x:99999/ HTTP/1.1', 'GET http://[::1 HTTP/1.1'])(
    'answers the raw request line %s without dying (D1)',
    async (line) => {
      const status = await raw(port, `${line}\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(status).toMatch(/^HTTP\/1\.1 4\d\d/);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    },
  );

  it.each(['/api/queues/%E0%A4%A', '/queues/%', '/changes/%ZZ'])('answers 400 for %s (D9)', async (path) => {
    const res = await fetch(`${base}${path}?token=${SECRETS.dashboard}`);
    expect(res.status).toBe(400);
  });

  it.each([
    ['no event header', null, '{"zen":"x"}'],
    ['the event __proto__', '__proto__', '{"zen":"x"}'],
    ['the event constructor', 'constructor', '{"zen":"x"}'],
    ['a JSON array', 'push', '[]'],
    ['a JSON string', 'push', '"push"'],
    ['JSON null', 'push', 'null'],
    [
      'commits that are not an array',
      'push',
      JSON.stringify({ ...pushPayload('0'.repeat(40), [{ id: 'a'.repeat(40), message: 'x' }]), commits: 'x' }),
    ],
  ])('refuses a signed GitHub payload with %s with a 400 (D9)', async (_what, event, body) => {
    const res = await signed(event, body);
    expect(res.status).toBe(400);
    expect(await bed.store.listQueues()).toEqual([]);
  });

  it('keeps /metrics behind its token (D11)', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${SECRETS.metrics}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('ost_');
  });

  it('holds at most its budget of unsigned bodies in memory, however many arrive at once (D4)', async () => {
    const size = 20 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    let peakRss = before;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    // streamed from one small chunk, so that the senders hold almost nothing themselves
    const statuses = await Promise.all(Array.from({ length: 16 }, () => streamUnsigned(port, size)));
    clearInterval(sampler);
    expect(statuses.every((s) => [401, 503, 0].includes(s))).toBe(true);
    expect(statuses.filter((s) => s === 401 || s === 503).length).toBeGreaterThan(0);
    expect(unauthenticatedBodies.peak).toBeLessThanOrEqual(unauthenticatedBodies.limit);
    // 16 x 20 MB sent; without the budget the process held them all at once (over 320 MB)
    expect(peakRss - before).toBeLessThan(250 * 1024 * 1024);
  });

  it('never writes a token to the log, even at debug level (D5)', async () => {
    // a handler that fails (a bug, an upstream outage) makes a 500, which is logged
    expect((await fetch(`${base}/boom?token=${SECRETS.dashboard}`)).status).toBe(500);
    await fetch(`${base}/?token=${SECRETS.dashboard}`);
    await fetch(`${base}/queues/nope?token=${SECRETS.dashboard}`);
    await fetch(`${base}/metrics?token=${SECRETS.metrics}`);
    await fetch(`${base}/api/queues/%ZZ?token=${SECRETS.dashboard}`);
    await fetch(`${base}/api/github/webhooks?token=${SECRETS.dashboard}`, { method: 'POST', body: '{}' });
    const text = logged.join('');
    expect(text).toContain('request failed');
    for (const secret of [...Object.values(SECRETS), WEBHOOK_SECRET]) expect(text).not.toContain(secret);
  });
});

describe('the logger', () => {
  it('redacts secret fields wherever they appear', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger({ destination }).info({ token: 't-SECRET', headers: { authorization: 'Bearer a-SECRET' } }, 'x');
    expect(lines.join('')).not.toMatch(/SECRET/);
    expect(lines.join('')).toContain('[redacted]');
    expect(silentLogger.level).toBe('silent');
  });
});
