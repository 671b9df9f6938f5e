// `ost-gate serve` on GitHub (Enterprise Server, through its address) with revert.auto, SIGKILLed right
// after GitHub opened the revert of a culprit, ten times (one culprit in each of ten repositories): each
// culprit has exactly one revert afterwards and one note pointing to it; the restarted server found the
// revert it had opened (by its marker) instead of opening another.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/http/signature.ts';
import { serveProcess } from '../helpers/cli.ts';
import { GheServer } from '../helpers/ghe-server.ts';
import { privateKey, pushPayload } from '../helpers/github.ts';
import { freePort } from '../helpers/ports.ts';

const KILLS = 10;
const SECRET = 'ghe-revert-secret';
const PR = 7;
const CONFIG =
  'branches: [main]\nci:\n  provider: command:ci\n  max_parallel: 2\nflaky:\n  confirm: 1\n  confidence: 0.99\n' +
  'revert:\n  auto: true\n  confidence: 0.99\n  daily_limit: 20\n';
// every merge commit here is a culprit: the runner fails any run that holds one
const culpritSha = (i: number) => `c0ffee${String(i).padStart(2, '0')}`.padEnd(40, '0');
const RUNNER = 'case "$OST_REFS" in *c0ffee*) exit 1;; esac';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function until<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false) {
  // a hang guard by count: 1,200 looks 100 ms apart
  for (let i = 0; i < 1200; i++) {
    const value = await Promise.resolve(probe()).catch(() => null);
    if (value) return value;
    await sleep(100);
  }
  throw new Error('gave up waiting');
}

describe('serve on GitHub with revert.auto, killed right after opening a revert', () => {
  it(`opens exactly one revert per culprit through ${KILLS} kills`, async () => {
    const github = await new GheServer().start();
    github.config = CONFIG;
    const dir = await mkdtemp(join(tmpdir(), 'ost-ghe-revert-'));
    await writeFile(join(dir, 'server.yml'), `runners:\n  ci:\n    command: [sh, -c, '${RUNNER}']\ntick: 500ms\n`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = () =>
      serveProcess({
        PORT: String(port),
        OST_DATA_DIR: join(dir, 'data'),
        OST_SERVER_CONFIG: join(dir, 'server.yml'),
        APP_ID: '1',
        PRIVATE_KEY: privateKey,
        WEBHOOK_SECRET: SECRET,
        GHE_HOST: github.host,
        GHE_PROTOCOL: 'http',
      });
    let server = start();
    const output: string[] = [];
    try {
      await until(async () => (await fetch(`${base}/healthz`)).ok);
      let killed: Promise<void> | null = null;
      github.onRevert = () => {
        // the revert exists on GitHub; the server dies before it can note that it opened it
        killed ??= (async () => {
          server.child.kill('SIGKILL');
          await server.exited;
          output.push(server.output());
          server = start();
          await until(async () => (await fetch(`${base}/healthz`)).ok);
        })();
      };
      for (let i = 0; i < KILLS; i++) {
        const repo = `org/r${i}`;
        github.merge(repo, PR, culpritSha(i));
        const payload = pushPayload('0'.repeat(40), [
          { id: culpritSha(i), message: `Merge pull request #${PR} from dev/f${i}` },
        ]) as Record<string, any>;
        // merged just now: revert.max_age (24 h) lets it be reverted
        payload.commits[0].timestamp = new Date().toISOString();
        payload.repository = {
          ...payload.repository,
          name: `r${i}`,
          full_name: repo,
          owner: { ...payload.repository.owner, login: 'org', name: 'org' },
        };
        const body = JSON.stringify(payload);
        const res = await fetch(`${base}/api/github/webhooks`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': `push-${i}`,
            'x-hub-signature-256': sign(SECRET, body),
          },
        });
        expect([200, 202]).toContain(res.status);
        await until(() => killed !== null);
        await killed;
        killed = null;
        // the restarted server performs the revert entry again: it finds the revert and says so on the culprit
        const notes = await until(() => {
          const said = (github.comments.get(`${repo}#${PR}`) ?? []).filter((c) =>
            c.startsWith('ost-gate opened a revert'),
          );
          return said.length > 0 && said;
        });
        expect(notes).toHaveLength(1);
        expect(github.revertsOf(repo, PR), `reverts of ${repo}#${PR}`).toHaveLength(1);
        expect(github.revertsOf(repo, PR)[0]!.body).toMatch(new RegExp(`^Reverts ${repo}#${PR}\\n`));
        // it was looked for before opening it, and again by the restarted server
        const lookups = github.calls.filter((c) => c === `GET /api/v3/repos/${repo}/pulls`);
        expect(lookups.length, `lookups of the reverts of ${repo}#${PR}`).toBeGreaterThanOrEqual(2);
      }
      // every revert was asked for once: the restarted servers looked and found them
      expect(github.calls.filter((c) => c === 'POST /api/graphql')).toHaveLength(KILLS);
      expect(
        github.calls.every(
          (c) => c.startsWith('GET /api/v3/') || c.startsWith('POST /api/') || c.startsWith('PATCH /api/v3/'),
        ),
      ).toBe(true);
      expect(github.problems).toEqual([]);
    } catch (err) {
      output.push(server.output());
      const seen = [...github.calls.slice(-20), ...github.problems, JSON.stringify([...github.comments])];
      const said = `${seen.join('\n')}\n--- server output ---\n${output.join('\n---\n').slice(-4000)}`;
      throw new Error(`${(err as Error).message}\n--- GitHub saw ---\n${said}`, {
        cause: err,
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      github.close();
    }
  }, 600_000);
});
