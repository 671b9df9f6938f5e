// A code host or CI that never answers: each request gives up after its time, with an error that
// says so, and the retrying transport tries again before it fails (the effect stays in the outbox).
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchWithRetry, fetchWithTimeout } from '../../src/http/fetch.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((ok) => s.close(ok));
  }
});

/** A server on 127.0.0.1 that takes every request and never answers; counts them. */
async function silentServer(): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer(() => void requests++);
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests: () => requests };
}

describe('requests to a peer that never answers', () => {
  it('give up after their time with an error naming the request', async () => {
    const { url } = await silentServer();
    await expect(fetchWithTimeout(`${url}/job/ost/build`, { method: 'POST' }, 200)).rejects.toThrow(
      'POST /job/ost/build: no answer in 0.2 s',
    );
  });

  it('are tried again by the retrying transport, then fail naming the service', async () => {
    const { url, requests } = await silentServer();
    await expect(
      fetchWithRetry(`${url}/a/changes/`, {}, { service: 'Gerrit', retries: 2, minTimeout: 1, timeoutMs: 200 }),
    ).rejects.toThrow('Gerrit GET /a/changes/: no answer in 0.2 s');
    expect(requests()).toBe(3);
  });
});
