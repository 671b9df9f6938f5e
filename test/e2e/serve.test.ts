// End to end: `ost-gate serve` as a child process, watching a local repository and running a command,
// reaches the verdicts and shows them at /api/queues/:name. Also runs the demo in-process.
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo.ts';
import { freePort } from '../helpers/ports.ts';
import { watchedRepo } from '../helpers/watched-repo.ts';

const root = join(import.meta.dirname, '..', '..');

describe('ost-gate serve', () => {
  it('watches a local repository, runs a command and names the culprit in the API', async () => {
    const { dir, repo, serverConfig, git } = await watchedRepo(
      'ci:\n  provider: command:check\n  max_parallel: 3\nflaky:\n  confirm: 1\n  confidence: 0\n',
    );
    const port = await freePort();
    const child = spawn(process.execPath, [join(root, 'bin', 'ost-gate.js'), 'serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        OST_DATA_DIR: join(dir, 'data'),
        OST_SERVER_CONFIG: serverConfig,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const api = `http://127.0.0.1:${port}/api/queues/${encodeURIComponent('git:app@master')}`;
    try {
      // the watcher has recorded its starting tip once its queue exists (a busy machine may take a while)
      for (let i = 0; i < 600; i++) {
        const ready = await fetch(api).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const shas: string[] = [];
      for (let i = 1; i <= 6; i++) {
        if (i === 4) await writeFile(join(repo, 'value.txt'), 'broken\n');
        await writeFile(join(repo, `f${i}.txt`), `${i}\n`);
        await git('add', '-A');
        await git('commit', '-qm', `change ${i}`);
        shas.push(await git('rev-parse', 'HEAD'));
      }
      let q: {
        changes: { id: string; state: string }[];
        verdicts: { change: string; verdict: string; culprit?: string }[];
      } | null = null;
      for (let i = 0; i < 600; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const res = await fetch(api).catch(() => null);
        if (!res?.ok) continue;
        q = await res.json();
        if (q!.changes.filter((c) => ['passed', 'culprit', 'blocked'].includes(c.state)).length === 6) break;
      }
      const state = Object.fromEntries(q!.changes.map((c) => [c.id.split('@')[1], c.state]));
      expect(
        shas.map((s) => state[s]),
        output,
      ).toEqual(['passed', 'passed', 'passed', 'culprit', 'blocked', 'blocked']);
      expect(q!.verdicts.find((v) => v.verdict === 'culprit')!.change).toBe(`git:app@${shas[3]}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 180_000); // a hang guard: about 4 s on a quiet machine
});

describe('ost-gate demo', () => {
  it('ends with exit 0, naming the commit that broke the test, on a free port while 3000 is taken', async () => {
    // port 3000 taken by another program (or by this one, when nothing else has it)
    const other = createServer((socket) => socket.end());
    await new Promise<void>((ok) => other.once('error', () => ok()).listen(3000, '127.0.0.1', ok));
    const before = process.env.PORT;
    delete process.env.PORT;
    const lines: string[] = [];
    try {
      const code = await runDemo({ keep: false, out: (l) => lines.push(l) });
      expect(code, lines.join('\n')).toBe(0);
    } finally {
      other.close();
      if (before !== undefined) process.env.PORT = before;
    }
    const text = lines.join('\n');
    expect(text).toMatch(/culprit: \w{8} change 13: refactor value handling \(the commit that broke value.txt\)/);
    expect(text).toMatch(/^dashboard: http:\/\/127\.0\.0\.1:(?!3000\/)\d+\//m);
    // the server's log is in its own file, never among the verdicts
    expect(text).toMatch(/^server log: .*server\.log$/m);
    expect(lines.filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
    // the mails it would send, as .eml files: the culprit to the list and to its author, at least
    const mailDir = /^(\d+) mail\(s\) written to (.*)$/m.exec(text);
    expect(Number(mailDir?.[1])).toBeGreaterThanOrEqual(2);
    const culpritMails = (await readdir(mailDir![2]!)).filter((f) => /_culprit_.*\.eml$/.test(f));
    expect(culpritMails).toHaveLength(2);
    const eml = await readFile(join(mailDir![2]!, culpritMails[0]!), 'utf8');
    expect(eml).toMatch(/^Subject: \[ost-gate\] git:demo@master: culprit \w{10} change 13: refactor/m);
    expect(eml).toContain('Auto-Submitted: auto-generated');
  }, 120_000); // a hang guard: about 10 s on a quiet machine
});
