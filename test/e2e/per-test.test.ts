// End to end through `ost-gate serve` as a process, with a command runner that writes JUnit XML to
// OST_RESULTS_DIR: a test that flakes in every other run is quarantined and its failures blame
// nobody; then two culprits landed in one push, breaking different tests, are both named, each with
// the test it broke, and the changes behind them are blocked.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { watchedRepo } from '../helpers/watched-repo.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The system tests: one JUnit test case per file of tests/ at the run's commit, failing unless it
 * holds "ok", and network.flaky, which fails in every other run the runner starts.
 */
const suite = (repo: string, counter: string) => `#!/bin/sh
sha=$(echo "$OST_REFS" | sed 's/.*"app":"\\([0-9a-f]*\\)".*/\\1/')
n=$(cat "${counter}" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "${counter}"
out="$OST_RESULTS_DIR/results.xml"; failed=0
echo '<testsuites><testsuite name="ost">' > "$out"
for t in $(git --git-dir "${repo}/.git" ls-tree --name-only "$sha" tests/ | sed 's#tests/##'); do
  if git --git-dir "${repo}/.git" show "$sha:tests/$t" | grep -qx ok; then
    echo "<testcase classname=\\"suite\\" name=\\"$t\\"/>" >> "$out"
  else
    echo "<testcase classname=\\"suite\\" name=\\"$t\\"><failure message=\\"broken\\"/></testcase>" >> "$out"; failed=1
  fi
done
if [ $((n % 2)) -eq 1 ]; then
  echo '<testcase classname="network" name="flaky"><failure message="timeout"/></testcase>' >> "$out"; failed=1
else
  echo '<testcase classname="network" name="flaky"/>' >> "$out"
fi
echo '</testsuite></testsuites>' >> "$out"
exit $failed
`;

interface QueueJson {
  changes: { id: string; state: string }[];
  verdicts: { change: string; verdict: string; culprit?: string; tests?: string[] }[];
  flakyTests: { id: string; flakes: number; quarantinedSince: number | null }[];
  runs: { state: string; quarantined?: string[] }[];
}

describe('culprits per failing test through ost-gate serve', () => {
  it('quarantines a flaky test, then names two culprits of one push with the tests they broke', async () => {
    const { dir, repo, serverConfig, git } = await watchedRepo(
      'ci:\n  provider: command:junit\n  max_parallel: 4\nflaky:\n  confirm: 1\n  quarantine: 0.1\n',
    );
    const script = join(dir, 'junit.sh');
    await writeFile(script, suite(repo, join(dir, 'runs.count')));
    await chmod(script, 0o755);
    // the watched repository's server config, with this suite as the runner
    const config = (await readFile(serverConfig, 'utf8')).replace(/^runners:\n {2}check:\n {4}command: .*$/m, '');
    await writeFile(
      serverConfig,
      `runners:\n  junit:\n    command: [sh, ${script}]\n${config.replace(/^runners:\n/m, '')}`,
    );
    const port = await freePort();
    const server = serveProcess({
      PORT: String(port),
      OST_DATA_DIR: join(dir, 'data'),
      OST_SERVER_CONFIG: serverConfig,
    });
    const api = `http://127.0.0.1:${port}/api/queues/${encodeURIComponent('git:app@master')}`;
    const queue = async (): Promise<QueueJson | null> => {
      const res = await fetch(api).catch(() => null);
      return res?.ok ? ((await res.json()) as QueueJson) : null;
    };
    const stateOf = (q: QueueJson | null, sha: string) => q?.changes.find((c) => c.id.endsWith(sha))?.state;
    const settled = (s: string | undefined) => !!s && !['waiting', 'queued', 'testing'].includes(s);
    try {
      for (let i = 0; i < 600 && !(await queue()); i++) await sleep(100);
      const commit = async (files: Record<string, string>, message: string) => {
        for (const [f, content] of Object.entries(files)) await writeFile(join(repo, f), content);
        await git('add', '-A');
        await git('commit', '-qm', message);
        return git('rev-parse', 'HEAD');
      };
      // one change at a time, until network.flaky has flaked often enough to be quarantined
      await mkdir(join(repo, 'tests'), { recursive: true });
      let q: QueueJson | null = null;
      for (let i = 0; i < 12; i++) {
        const sha = await commit(
          i === 0
            ? { 'tests/alpha': 'ok\n', 'tests/beta': 'ok\n', 'tests/gamma': 'ok\n' }
            : { [`f${i}.txt`]: `${i}\n` },
          `change ${i}`,
        );
        for (let j = 0; j < 1200 && !settled(stateOf(q, sha)); j++) {
          await sleep(100);
          q = await queue();
        }
        expect(stateOf(q, sha), server.output()).toBe('passed');
        if (q!.flakyTests.some((t) => t.quarantinedSince !== null)) break;
      }
      expect(q!.flakyTests, server.output()).toEqual([
        expect.objectContaining({ id: 'network.flaky', quarantinedSince: expect.any(Number) }),
      ]);
      expect(q!.verdicts.filter((v) => v.verdict === 'culprit')).toEqual([]);

      // five changes in one push: the second breaks suite.alpha, the fourth suite.gamma
      await git('checkout', '-q', '-b', 'work');
      const shas = [
        await commit({ 'g1.txt': '1\n' }, 'fine 1'),
        await commit({ 'tests/alpha': 'broken\n' }, 'breaks alpha'),
        await commit({ 'g3.txt': '3\n' }, 'fine 3'),
        await commit({ 'tests/gamma': 'broken\n' }, 'breaks gamma'),
        await commit({ 'g5.txt': '5\n' }, 'fine 5'),
      ];
      await git('checkout', '-q', 'master');
      await git('merge', '-q', '--ff-only', 'work');
      for (let j = 0; j < 1800 && !shas.every((s) => settled(stateOf(q, s))); j++) {
        await sleep(100);
        q = await queue();
      }
      expect(
        shas.map((s) => stateOf(q, s)),
        server.output(),
      ).toEqual(['passed', 'culprit', 'blocked', 'culprit', 'blocked']);
      const verdictOf = (sha: string) => q!.verdicts.filter((v) => v.change.endsWith(sha)).at(-1);
      expect(verdictOf(shas[1]!)).toMatchObject({ verdict: 'culprit', tests: ['suite.alpha'] });
      expect(verdictOf(shas[3]!)).toMatchObject({ verdict: 'culprit', tests: ['suite.gamma'] });
      expect(verdictOf(shas[4]!)).toMatchObject({ verdict: 'blocked', culprit: expect.stringContaining(shas[1]!) });
      // network.flaky failed in some of those runs too, quarantined: it blamed nobody
      expect(q!.runs.some((r) => r.quarantined?.includes('network.flaky'))).toBe(true);
      expect(q!.verdicts.filter((v) => v.verdict === 'culprit')).toHaveLength(2);
      // the dashboard names what broke and lists the flaky test
      const page = await (
        await fetch(`http://127.0.0.1:${port}/queues/${encodeURIComponent('git:app@master')}`)
      ).text();
      expect(page).toContain('broke <code>suite.alpha</code>');
      expect(page).toMatch(/<h2>Flaky tests<\/h2>[\s\S]*<code>network\.flaky<\/code>/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 600_000); // a hang guard: about 40 s on a quiet machine
});
