// POST /api/queues/:queue/commands: operator commands without a code host, behind OST_ADMIN_TOKEN.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { QUEUE, queueWithOneChange } from '../helpers/queue.ts';
import { closedAfterEach } from '../helpers/web.ts';
import { readQueue } from '../../src/engine/replay.ts';

const TOKEN = 'admin-test-token';
const servers = closedAfterEach();

async function setup(adminToken: string | null = TOKEN) {
  const { store, engine } = await queueWithOneChange({ settingsFor: () => ({ maxParallel: 1 }) });
  const server = createHttpServer({ engine, log: silentLogger, adminToken: adminToken ?? undefined });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const command = (body: unknown, token: string | null = TOKEN, queue = QUEUE) =>
    fetch(`${base}/api/queues/${encodeURIComponent(queue)}/commands`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  return { store, command };
}

describe('POST /api/queues/:queue/commands', () => {
  it('pauses and resumes a queue, answering with the reply a slash command would get', async () => {
    const { store, command } = await setup();
    const paused = await command({ verb: 'pause' });
    expect([paused.status, await paused.json()]).toEqual([200, { ok: true, message: expect.stringMatching(/paused/) }]);
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
    expect(await (await command({ verb: 'pause' })).json()).toMatchObject({
      ok: false,
      message: expect.stringMatching(/already paused/),
    });
    expect(await (await command({ verb: 'resume' })).json()).toMatchObject({ ok: true });
    expect((await readQueue(store, QUEUE))!.state.paused).toBeNull();
  });

  it('dequeues a change by its id', async () => {
    const { store, command } = await setup();
    const res = await command({ verb: 'dequeue', change: 'git:app@aaa' });
    expect(await res.json()).toMatchObject({ ok: true, message: expect.stringMatching(/removed from queue/) });
    expect((await readQueue(store, QUEUE))!.state.changes['git:app@aaa']!.verdict).toBe('skipped');
  });

  it.each([
    ['no token', null, { verb: 'pause' }, 401, /missing or bad token/],
    ['a wrong token', 'nope', { verb: 'pause' }, 401, /missing or bad token/],
    ['a body that is not JSON', TOKEN, '{nope', 400, /not JSON/],
    [
      'an unknown verb',
      TOKEN,
      { verb: 'explode' },
      400,
      /verbs: retry, enqueue, dequeue, not-culprit, priority, pause, resume/,
    ],
    ['a change verb without a change', TOKEN, { verb: 'retry' }, 400, /needs a change/],
    ['an unknown change', TOKEN, { verb: 'retry', change: 'git:app@zzz' }, 404, /no change/],
  ] as const)('answers %s with a 4xx, and changes nothing', async (_what, token, body, status, message) => {
    const { store, command } = await setup();
    const before = JSON.stringify((await readQueue(store, QUEUE))!.state);
    const res = await command(body, token);
    expect([res.status, (await res.json()).error]).toEqual([status, expect.stringMatching(message)]);
    expect(JSON.stringify((await readQueue(store, QUEUE))!.state)).toBe(before);
  });

  it('answers 404 for an unknown queue', async () => {
    const { command } = await setup();
    expect((await command({ verb: 'pause' }, TOKEN, 'no-such-queue')).status).toBe(404);
  });

  it('is off without OST_ADMIN_TOKEN, saying how to turn it on', async () => {
    const { command } = await setup(null);
    const res = await command({ verb: 'pause' });
    expect([res.status, (await res.json()).error]).toEqual([403, expect.stringMatching(/set OST_ADMIN_TOKEN/)]);
  });
});
