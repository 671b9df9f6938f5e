// `ost-gate serve` on PostgreSQL (OST_DATABASE_URL) as child processes. The first replica takes the
// one queue's lease and writes it; a second one serves the same queue and stores what it accepts for it
// in the inbox, which the writer applies. When the writer is frozen (SIGSTOP) past its lease, the second
// takes the queue over and goes on with new changes; the first, continued, finds the queue's lease
// gone, writes nothing to it and forwards what it accepts for it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveProcess } from '../helpers/cli.ts';
import { watchedRepo } from '../helpers/watched-repo.ts';
import { freePort } from '../helpers/ports.ts';
import { usePostgres } from '../helpers/postgres.ts';

const QUEUE = encodeURIComponent('git:app@master');
const ADMIN = 'admin-token-for-the-test';

const postgres = usePostgres();

/** Polls `probe` every 100 ms until it gives a value (at most `tries` times: a hang guard). */
async function until<T>(probe: () => Promise<T | null | undefined>, output: () => string, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await probe().catch(() => null);
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting; the replica said:\n${output()}`);
}

type QueueJson = { changes: { id: string; state: string }[]; paused: unknown };

describe('replicas on PostgreSQL', () => {
  it("a replica forwards to the queue's writer, takes the queue over from a frozen one, which then forwards", async () => {
    const { dir, repo, serverConfig, git } = await watchedRepo(
      'ci:\n  provider: command:check\nflaky:\n  confirm: 1\n  confidence: 0\n',
    );
    const database = await postgres.server().database();
    const replica = async (name: string) => {
      const port = await freePort();
      const proc = serveProcess({
        PORT: String(port),
        OST_DATA_DIR: join(dir, `data-${name}`),
        OST_SERVER_CONFIG: serverConfig,
        OST_DATABASE_URL: database,
        OST_LEASE_SECONDS: '4',
        OST_ADMIN_TOKEN: ADMIN,
      });
      const base = `http://127.0.0.1:${port}`;
      const queue = async () => {
        const res = await fetch(`${base}/api/queues/${QUEUE}`);
        return res.ok ? ((await res.json()) as QueueJson) : null;
      };
      /** Whether this replica writes the queue (holds its lease), as /healthz says. */
      const part = async () => {
        const res = await fetch(`${base}/healthz`);
        const { replica } = (await res.json()) as { replica: { queues: string[] } };
        return replica.queues.includes(decodeURIComponent(QUEUE)) ? 'writes' : 'reads';
      };
      const command = async (verb: string) => {
        const res = await fetch(`${base}/api/queues/${QUEUE}/commands`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify({ verb }),
        });
        return { status: res.status, body: (await res.json()) as { ok: boolean; message: string } };
      };
      return { ...proc, base, queue, part, command };
    };
    const states = (q: QueueJson) => q.changes.map((c) => c.state);
    const paused = (r: Awaited<ReturnType<typeof replica>>, yes: boolean) =>
      until(async () => ((await r.queue())?.paused !== null) === yes || null, r.output);

    const a = await replica('a');
    let b: Awaited<ReturnType<typeof replica>> | null = null;
    try {
      await until(a.queue, a.output);
      for (let i = 1; i <= 3; i++) {
        if (i === 2) await writeFile(join(repo, 'value.txt'), 'broken\n');
        await writeFile(join(repo, `f${i}.txt`), `${i}\n`);
        await git('add', '-A');
        await git('commit', '-qm', `change ${i}`);
      }
      const judged = await until(async () => {
        const q = await a.queue();
        return q && states(q).filter((s) => s !== 'queued' && s !== 'testing').length === 3 ? q : null;
      }, a.output);
      expect(states(judged), a.output()).toEqual(['passed', 'culprit', 'blocked']);
      expect(await a.part()).toBe('writes');

      // a second replica reads the same queue, and what it accepts reaches the writer through the inbox
      b = await replica('b');
      const reader = b;
      expect(states((await until(reader.queue, reader.output))!)).toEqual(['passed', 'culprit', 'blocked']);
      expect(await reader.part()).toBe('reads');
      // the log of a run the first replica ran, served by the second (run logs live in the database)
      type Runs = { runs: { key: string; state: string }[] };
      const runs = ((await (await fetch(`${a.base}/api/queues/${QUEUE}`)).json()) as Runs).runs;
      const failed = runs.find((r) => r.state === 'failed');
      expect(failed, JSON.stringify(runs)).toBeDefined();
      const log = await fetch(`${reader.base}/api/runs/${encodeURIComponent(failed!.key)}/log`);
      expect(log.status).toBe(200);
      expect(await log.text()).toMatch(/^ost-gate: .* exited with code [01]$/m);
      const forwarded = await reader.command('pause');
      expect(forwarded).toEqual({ status: 200, body: { ok: true, message: expect.stringMatching(/^pause accepted/) } });
      await paused(a, true);
      await paused(reader, true);
      expect((await a.command('resume')).body.ok).toBe(true);

      // the writer is frozen past its lease: the reader takes over and goes on with the next change
      a.child.kill('SIGSTOP');
      await until(async () => (await reader.part()) === 'writes', reader.output);
      await writeFile(join(repo, 'value.txt'), 'ok\n');
      await git('commit', '-qam', 'fix');
      const next = await until(async () => {
        const q = await reader.queue();
        return q && q.changes.length === 4 ? q : null;
      }, reader.output);
      expect(next.changes[3]!.id).toBe(`git:app@${await git('rev-parse', 'HEAD')}`);

      // the old writer wakes up: its lease is gone, it says so and goes on as a reader that forwards
      a.child.kill('SIGCONT');
      // (its log reaches the pipe a moment after /healthz says so)
      await until(async () => (await a.part()) === 'reads' && /lost the leases of 1 queue/.test(a.output()), a.output);
      expect((await a.command('pause')).body.message).toMatch(/^pause accepted/);
      await paused(reader, true);
      for (const output of [a.output(), reader.output()]) expect(output).not.toContain(new URL(database).password);
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGTERM');
      b?.child.kill('SIGTERM');
      await a.exited;
      await b?.exited;
    }
  }, 180_000); // a hang guard: about 20 s on a quiet machine
});
