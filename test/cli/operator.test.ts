// The operator's CLI verbs against a running server: pause and resume a queue, dequeue a change found
// by its id, and the exit codes (0 done, 1 refused, 2 usage).
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.ts';
import { runOperatorCommand } from '../../src/cli/operator.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { QUEUE, queueWithOneChange } from '../helpers/queue.ts';
import { closedAfterEach } from '../helpers/web.ts';
import { readQueue } from '../../src/engine/replay.ts';

const servers = closedAfterEach();

async function server() {
  const { store, engine } = await queueWithOneChange();
  const http = createHttpServer({ engine, log: silentLogger, adminToken: 'tok' });
  await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
  servers.push(http);
  return {
    store,
    env: { OST_ADMIN_TOKEN: 'tok', OST_URL: `http://127.0.0.1:${(http.address() as AddressInfo).port}` },
  };
}

describe('ost-gate pause|resume|retry|dequeue|not-culprit|enqueue', () => {
  it('pauses and resumes a queue, printing the server reply, exit 0 when done and 1 when refused', async () => {
    const { store, env } = await server();
    const lines: string[] = [];
    expect(await runOperatorCommand('pause', [QUEUE], (l) => lines.push(l), env)).toBe(0);
    expect((await readQueue(store, QUEUE))!.state.paused).toMatchObject({ by: 'admin API' });
    expect(await runOperatorCommand('pause', [QUEUE], (l) => lines.push(l), env)).toBe(1);
    expect(await runOperatorCommand('resume', [QUEUE], (l) => lines.push(l), env)).toBe(0);
    expect(lines).toEqual([
      expect.stringMatching(/paused/),
      expect.stringMatching(/already paused/),
      expect.stringMatching(/resumed/),
    ]);
  });

  it('finds the queue of a change by its id', async () => {
    const { store, env } = await server();
    const lines: string[] = [];
    expect(await runOperatorCommand('dequeue', ['git:app@aaa'], (l) => lines.push(l), env)).toBe(0);
    expect((await readQueue(store, QUEUE))!.state.changes['git:app@aaa']!.verdict).toBe('skipped');
    expect(await runOperatorCommand('retry', ['git:app@nope'], (l) => lines.push(l), env)).toBe(1);
    expect(lines.at(-1)).toMatch(/no queue .* holds git:app@nope/);
  });

  it('refuses a wrong token with exit 1, and usage mistakes with exit 2', async () => {
    const { env } = await server();
    expect(await runOperatorCommand('pause', [QUEUE], () => undefined, { ...env, OST_ADMIN_TOKEN: 'bad' })).toBe(1);
    const errors: string[] = [];
    expect(
      await main(
        ['pause'],
        () => undefined,
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(
      await main(
        ['retry', 'a', 'b'],
        () => undefined,
        (l) => errors.push(l),
      ),
    ).toBe(2);
    expect(errors.every((e) => e.startsWith('ost-gate: '))).toBe(true);
  });

  it('names the server and why when it cannot be reached, instead of "fetch failed"', async () => {
    const free = createNetServer();
    await new Promise<void>((ok) => free.listen(0, '127.0.0.1', ok));
    const port = (free.address() as AddressInfo).port;
    await new Promise((ok) => free.close(ok));
    const errors: string[] = [];
    const env = { ...process.env, OST_ADMIN_TOKEN: 'tok', OST_URL: `http://127.0.0.1:${port}` };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      expect(
        await main(
          ['pause', QUEUE],
          () => undefined,
          (l) => errors.push(l),
        ),
      ).toBe(1);
      expect(
        await main(
          ['status'],
          () => undefined,
          (l) => errors.push(l),
        ),
      ).toBe(1);
    } finally {
      process.env = saved;
    }
    expect(errors).toEqual([
      `ost-gate: cannot reach the ost-gate server at http://127.0.0.1:${port}: nothing listens there (ECONNREFUSED); start it, or give its address with --url or OST_URL`,
      `ost-gate: cannot reach the ost-gate server at http://127.0.0.1:${port}: nothing listens there (ECONNREFUSED); start it, or give its address with --url or OST_URL`,
    ]);
  });

  it('status --url asks a running server, like the operator commands', async () => {
    const { env } = await server();
    const lines: string[] = [];
    expect(
      await main(
        ['status', '--url', env.OST_URL, '--json'],
        (l) => lines.push(l),
        () => undefined,
      ),
    ).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toEqual([expect.objectContaining({ name: QUEUE })]);
  });
});
