// The run log and history API, and their dashboard pages: a command runner's log while it runs and
// after, older verdicts paged by time without skipping any, and the dashboard token in front of both.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CommandDispatcher } from '../../src/ci/command/dispatcher.ts';
import type { VerdictRecord } from '../../src/core/index.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { QUEUE, queueWithOneChange } from '../helpers/queue.ts';
import { closedAfterEach } from '../helpers/web.ts';

const servers = closedAfterEach();

async function setup(dashboardToken?: string) {
  const { store, engine } = await queueWithOneChange();
  // 7 verdicts, two pairs given at the same time
  const ats = [100, 200, 300, 300, 400, 500, 500];
  const verdicts: VerdictRecord[] = ats.map((at, i) => ({ change: `git:app@c${i}`, verdict: 'passed', at }));
  await store.appendHistory(QUEUE, verdicts, 1);
  const server = createHttpServer({
    engine,
    log: silentLogger,
    dashboardToken,
    historyPage: (q, before, n) => store.readHistoryPage(q, before, n),
    runLog: (key) => store.readRunLog(key),
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  servers.push(server);
  return { store, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('GET /api/queues/:name/history', () => {
  it('pages through every older verdict once, newest first, even across verdicts given at the same time', async () => {
    const { base } = await setup();
    const seen: string[] = [];
    let next: string | null = `/api/queues/${encodeURIComponent(QUEUE)}/history?limit=2`;
    for (let pages = 0; next && pages < 10; pages++) {
      const body = (await (await fetch(`${base}${next}`)).json()) as { verdicts: VerdictRecord[]; next: string | null };
      seen.push(...body.verdicts.map((v) => v.change));
      next = body.next;
    }
    expect(seen).toEqual([
      'git:app@c6',
      'git:app@c5',
      'git:app@c4',
      'git:app@c3',
      'git:app@c2',
      'git:app@c1',
      'git:app@c0',
    ]);
    const before = await (await fetch(`${base}/api/queues/${encodeURIComponent(QUEUE)}/history?before=300`)).json();
    expect(before.verdicts.map((v: VerdictRecord) => v.at)).toEqual([200, 100]);
  });

  it('answers 400 for a bad limit or time and 404 for an unknown queue', async () => {
    const { base } = await setup();
    const q = `${base}/api/queues/${encodeURIComponent(QUEUE)}/history`;
    expect((await fetch(`${q}?limit=0`)).status).toBe(400);
    expect((await fetch(`${q}?limit=abc`)).status).toBe(400);
    expect(await (await fetch(`${q}?before=yesterday`)).json()).toMatchObject({
      error: expect.stringMatching(/before must be a time/),
    });
    expect((await fetch(`${base}/api/queues/nope/history`)).status).toBe(404);
  });

  it('is behind the dashboard token, as the dashboard page of older verdicts is', async () => {
    const { base } = await setup('dash-token');
    const path = `/api/queues/${encodeURIComponent(QUEUE)}/history`;
    expect((await fetch(`${base}${path}`)).status).toBe(401);
    expect((await fetch(`${base}${path}?token=dash-token`)).status).toBe(200);
    const page = await fetch(`${base}/queues/${encodeURIComponent(QUEUE)}/history?limit=3&token=dash-token`);
    const text = await page.text();
    expect(text).toMatch(/Older verdicts of/);
    expect(text).toContain(`/queues/${encodeURIComponent(QUEUE)}/history?before=400`);
    const queuePage = await (await fetch(`${base}/queues/${encodeURIComponent(QUEUE)}?token=dash-token`)).text();
    expect(queuePage).toContain(`href="/queues/${encodeURIComponent(QUEUE)}/history"`);
  });
});

describe('GET /api/runs/:key/log', () => {
  it("serves a command runner's log, and says where the log is for a run without one", async () => {
    const { store, base } = await setup('dash-token');
    await store.keepRunLog('git_app_main.7-abc', 'line 1\nline 2\n');
    const log = await fetch(`${base}/api/runs/git_app_main.7-abc/log`, {
      headers: { authorization: 'Bearer dash-token' },
    });
    expect([log.status, await log.text()]).toEqual([200, 'line 1\nline 2\n']);
    expect((await fetch(`${base}/api/runs/git_app_main.7-abc/log`)).status).toBe(401);
    const none = await fetch(`${base}/api/runs/${encodeURIComponent('../../etc/passwd')}/log?token=dash-token`);
    expect([none.status, (await none.json()).error]).toEqual([
      404,
      expect.stringMatching(/no run .* and no log for it/),
    ]);
  });

  it('is written while the command runs, not only when it ends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-runlog-'));
    const release = join(dir, 'release');
    const logPath = (key: string) => join(dir, `${key}.log`);
    const runner = new CommandDispatcher(
      'ost',
      { command: ['sh', '-c', `echo started; while [ ! -e ${release} ]; do sleep 0.05; done; echo done`] },
      { workRoot: join(dir, 'work'), keepLog: (key, text) => writeFile(logPath(key), text) },
    );
    const finished: string[] = [];
    await runner.dispatch(
      { key: 'q.1', refs: { app: 'aaa' }, changes: ['git:app@aaa'] } as never,
      {
        queue: 'q',
        now: () => 0,
        submit: async (_q: string, event: { status?: string }) => void finished.push(event.status ?? ''),
      } as never,
    );
    let text = '';
    // the runner writes its log every 2 s while output is new: 600 polls of 50 ms is far beyond that
    for (let i = 0; i < 600 && !text.includes('started'); i++) {
      text = await readFile(logPath('q.1'), 'utf8').catch(() => '');
      if (!text.includes('started')) await new Promise((ok) => setTimeout(ok, 50));
    }
    expect(text).toBe('started\n');
    expect(finished).toEqual([]);
    await writeFile(release, '');
    await runner.finishing.get('q.1');
    expect(await readFile(logPath('q.1'), 'utf8')).toBe('started\ndone\n');
    expect(finished).toEqual(['success']);
  });
});
