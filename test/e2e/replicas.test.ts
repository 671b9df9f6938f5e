// `ost-gate serve` on PostgreSQL (OST_DATABASE_URL) as child processes: the queue lives in the
// database, so a second replica started while the first is alive is refused in one line; when the
// first is frozen (SIGSTOP) past its lease, the second takes over, serves the same verdicts and goes
// on with new changes; the first, continued, is fenced: it writes nothing and /healthz says so.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveProcess } from '../helpers/cli.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

const exec = promisify(execFile);
const QUEUE = encodeURIComponent('git:app@master');
const ADMIN = 'admin-token-for-the-test';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server.stop();
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as { port: number };
  await new Promise((ok) => s.close(ok));
  return port;
}

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
  it('refuses a second writer, hands over from a frozen one, and fences it when it wakes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-replicas-'));
    const repo = join(dir, 'repo');
    await mkdir(repo);
    const git = async (...args: string[]) =>
      (
        await exec('git', ['-C', repo, '-c', 'user.name=T', '-c', 'user.email=t@example.invalid', ...args])
      ).stdout.trim();
    await git('init', '-q', '-b', 'master');
    await writeFile(
      join(repo, '.ost-gate.yml'),
      'ci:\n  provider: command:check\nflaky:\n  confirm: 1\n  confidence: 0\n',
    );
    await writeFile(join(repo, 'value.txt'), 'ok\n');
    await git('add', '-A');
    await git('commit', '-qm', 'initial');
    await writeFile(
      join(dir, 'check.sh'),
      `#!/bin/sh\nsha=$(echo "$OST_REFS" | sed 's/.*"app":"\\([0-9a-f]*\\)".*/\\1/')\ngit --git-dir "${repo}/.git" show "$sha:value.txt" | grep -qx ok\n`,
    );
    await writeFile(
      join(dir, 'server.yml'),
      `runners:\n  check:\n    command: [sh, ${join(dir, 'check.sh')}]\ngit:\n  - name: app\n    url: ${repo}\n    branch: master\n    interval: 100ms\ntick: 200ms\n`,
    );
    const database = await server.database();
    const replica = async (name: string) => {
      const port = await freePort();
      const proc = serveProcess({
        PORT: String(port),
        OST_DATA_DIR: join(dir, `data-${name}`),
        OST_SERVER_CONFIG: join(dir, 'server.yml'),
        OST_DATABASE_URL: database,
        OST_LEASE_SECONDS: '4',
        OST_ADMIN_TOKEN: ADMIN,
      });
      const base = `http://127.0.0.1:${port}`;
      const queue = async () => {
        const res = await fetch(`${base}/api/queues/${QUEUE}`);
        return res.ok ? ((await res.json()) as QueueJson) : null;
      };
      return { ...proc, base, queue };
    };
    const states = (q: QueueJson) => q.changes.map((c) => c.state);

    const a = await replica('a');
    let b1: Awaited<ReturnType<typeof replica>> | null = null;
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

      // a second replica while the first holds the lease: refused in one line, the password never said
      b1 = await replica('b');
      expect(await b1.exited).not.toBe(0);
      expect(b1.output()).toMatch(
        /is writing to this database and keeps its lease: ost-gate runs one replica per database/,
      );
      expect(b1.output()).not.toContain(new URL(database).password);

      // the first is frozen past its lease: the next replica takes over and serves the same queue
      a.child.kill('SIGSTOP');
      const b = await replica('b');
      try {
        const taken = await until(b.queue, b.output);
        expect(states(taken)).toEqual(['passed', 'culprit', 'blocked']);
        await writeFile(join(repo, 'value.txt'), 'ok\n');
        await git('commit', '-qam', 'fix');
        // the new replica watches the branch from where the queue is, and queues the next change
        const next = await until(async () => {
          const q = await b.queue();
          return q && q.changes.length === 4 ? q : null;
        }, b.output);
        expect(next.changes[3]!.id).toBe(`git:app@${await git('rev-parse', 'HEAD')}`);

        // the first wakes up: it lost its lease, says so, and writes nothing
        a.child.kill('SIGCONT');
        const health = await until(async () => {
          const res = await fetch(`${a.base}/healthz`);
          return res.status === 503 ? ((await res.json()) as { components: { store: string } }) : null;
        }, a.output);
        expect(health.components.store).toBe('fenced');
        const pause = await fetch(`${a.base}/api/queues/${QUEUE}/commands`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify({ verb: 'pause' }),
        });
        expect(pause.status).toBe(503);
        expect((await pause.json()).error).toMatch(/no longer holds the writer lease/);
        expect((await b.queue())!.paused).toBeNull();
        expect(a.output()).toMatch(/lost the writer lease/);
        expect(a.output()).not.toContain(new URL(database).password);
      } finally {
        b.child.kill('SIGTERM');
        await b.exited;
      }
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGTERM');
      b1?.child.kill('SIGTERM');
      await a.exited;
    }
  }, 180_000); // a hang guard: about 20 s on a quiet machine
});
