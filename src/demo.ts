// `ost-gate demo`: the whole bot on the embedded defaults. A temporary git repository receives about
// twenty commits; one breaks its test script, which also fails at random one run in ten. The real
// server watches the repository with the git host, runs the script with a command runner, and
// stores everything with lowdb; the demo prints every verdict as it lands and reverts the culprit
// the way a developer would. It exits 0 once every change has its final verdict.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VerdictRecord } from './core/index.ts';
import { configRules } from './registry.ts';
import { createLogger } from './log.ts';
import { startServer, type RunningServer } from './serve.ts';

const exec = promisify(execFile);
const COMMITS = 20;
const BROKEN_AT = 13;
const QUEUE = 'git:demo@master';
const DEADLINE_MS = 58_000;

const TEST_SCRIPT = `#!/bin/sh
# The demo's "system test": fails when value.txt is broken, and at random one run in ten.
r=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
if [ $((r % 10)) -eq 0 ]; then echo "flaky infrastructure hiccup"; exit 1; fi
if ! grep -qx ok value.txt; then echo "value.txt is not ok"; exit 1; fi
echo "all good"
`;

const RUNNER = `// The demo's CI runner: checks out the tested sha and runs test.sh, like a CI job would.
import { execFileSync, spawnSync } from 'node:child_process';
const refs = JSON.parse(process.env.OST_REFS);
const sha = refs.demo;
const wd = process.env.OST_WORKDIR;
execFileSync('git', ['--git-dir', process.env.DEMO_REPO + '/.git', 'archive', '-o', wd + '/src.tar', sha]);
execFileSync('tar', ['-xf', wd + '/src.tar', '-C', wd]);
await new Promise((r) => setTimeout(r, 400 + Math.random() * 400));
const result = spawnSync('sh', ['test.sh'], { cwd: wd, stdio: 'inherit' });
process.exit(result.status ?? 2);
`;

const REPO_CONFIG = `# ost-gate config of the demo repository
ci:
  provider: command:demo
  max_parallel: 4
  timeout: 1m
  retries: 2
batch:
  max_size: 20
flaky:
  confirm: 1
report:
  notify: [culprit, blocked, fixed]
`;

const SYMBOL: Record<string, string> = {
  passed: 'passed ',
  culprit: 'CULPRIT',
  blocked: 'blocked',
  fixed: 'fixed  ',
  skipped: 'skipped',
  rejected: 'rejected',
  error: 'error  ',
};

export interface DemoOptions {
  keep: boolean;
  port?: number;
  out: (line: string) => void;
}

async function git(repo: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', [
    '-C',
    repo,
    '-c',
    'user.name=Demo Developer',
    '-c',
    'user.email=dev@example.invalid',
    '-c',
    'commit.gpgsign=false',
    ...args,
  ]);
  return stdout.trim();
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { out } = opts;
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'ost-gate-demo-'));
  const repo = join(dir, 'repo');
  await mkdir(join(repo, 'src'), { recursive: true });
  await exec('git', ['init', '--quiet', '-b', 'master', repo]);
  await writeFile(join(repo, 'test.sh'), TEST_SCRIPT);
  await writeFile(join(repo, 'value.txt'), 'ok\n');
  await writeFile(join(repo, '.ost-gate.yml'), REPO_CONFIG);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '--quiet', '-m', 'initial: test script and config');
  await writeFile(join(dir, 'runner.mjs'), RUNNER);

  const config = configRules.validateServer({
    runners: { demo: { command: [process.execPath, join(dir, 'runner.mjs')], env: { DEMO_REPO: repo } } },
    git: [{ name: 'demo', url: repo, branch: 'master', interval: 150 }],
    tick: 250,
  });
  // the server's JSON log goes to a file of its own, so that it never lands among the verdicts printed
  const logFile = join(dir, 'server.log');
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info', destination: logStream });
  const env = { ...process.env, OST_DATA_DIR: join(dir, 'data') };
  // any free port, unless --port or PORT names one
  const port = opts.port ?? (process.env.PORT ? Number(process.env.PORT) : 0);
  let server: RunningServer;
  try {
    server = await startServer({ env, config, log, port });
  } catch (err) {
    logStream.end();
    throw err;
  }
  out(`ost-gate demo: repository ${repo}`);
  out(`server log: ${logFile}`);
  out(`dashboard: ${server.url}/   queue API: ${server.url}/api/queues/${encodeURIComponent(QUEUE)}`);
  out(
    `merging ${COMMITS} commits; commit ${BROKEN_AT} breaks the test, and the test also fails at random 1 run in 10\n`,
  );

  const titles = new Map<string, string>();
  const shas: string[] = [];
  let culpritSha: string | null = null;
  const committing = (async () => {
    for (let i = 1; i <= COMMITS; i++) {
      await writeFile(join(repo, 'src', `feature-${i}.txt`), `feature ${i}\n`);
      if (i === BROKEN_AT) await writeFile(join(repo, 'value.txt'), 'broken\n');
      const title = i === BROKEN_AT ? `change ${i}: refactor value handling` : `change ${i}: add feature ${i}`;
      await git(repo, 'add', '-A');
      await git(repo, 'commit', '--quiet', '-m', title);
      const sha = await git(repo, 'rev-parse', 'HEAD');
      shas.push(sha);
      titles.set(sha, title);
      if (i === BROKEN_AT) culpritSha = sha;
      if (i % 2 === 0) await new Promise((r) => setTimeout(r, 500));
    }
  })();

  const shown = new Set<string>();
  let reverted = false;
  let revertSha: string | null = null;
  const name = (id: string) => {
    const sha = id.split('@')[1] ?? id;
    return `${sha.slice(0, 8)} ${titles.get(sha) ?? ''}`.trim();
  };
  try {
    for (;;) {
      if (Date.now() - started > DEADLINE_MS) {
        out(
          `\nthe demo did not finish within ${DEADLINE_MS / 1000} s; the queue is at ${server.url}/api/queues/${encodeURIComponent(QUEUE)}`,
        );
        return 1;
      }
      await new Promise((r) => setTimeout(r, 150));
      const file = await server.engine.reads.queue(QUEUE);
      if (!file) continue;
      const live = new Map<string, VerdictRecord>();
      for (const v of file.state.verdicts) if (!v.retracted) live.set(v.change, v);
      for (const v of file.state.verdicts) {
        const mark = `${v.change}:${v.verdict}:${v.at}`;
        if (shown.has(mark) || v.retracted) continue;
        shown.add(mark);
        const extra =
          v.verdict === 'culprit'
            ? ` (confidence ${(v.confidence ?? 0).toFixed(4)}, run ${v.run ?? '?'})`
            : v.culprit && v.culprit !== v.change
              ? ` by ${name(v.culprit)}`
              : '';
        out(`${SYMBOL[v.verdict] ?? v.verdict}  ${name(v.change)}${extra}`);
        if (v.verdict === 'culprit' && !reverted) {
          reverted = true;
          const sha = v.change.split('@')[1]!;
          await committing;
          out(`         a developer reverts ${sha.slice(0, 8)}`);
          await git(repo, 'revert', '--no-edit', sha);
          revertSha = await git(repo, 'rev-parse', 'HEAD');
          titles.set(revertSha, `revert of ${sha.slice(0, 8)}`);
          shas.push(revertSha);
        }
      }
      await committing;
      const everyone = shas.map((s) => `git:demo@${s}`);
      const finished = everyone.every((id) => live.has(id));
      if (finished && reverted && revertSha) {
        const culprit = [...live.values()].find((v) => v.verdict === 'culprit');
        out(
          `\nevery change has its verdict after ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
            `${file.state.stats.runsFinished} runs finished, ${file.state.stats.flakes} flaky failure(s) recognised`,
        );
        out(
          `culprit: ${culprit ? name(culprit.change) : 'none'}` +
            (culprit && culprit.change.endsWith(culpritSha ?? '-') ? ' (the commit that broke value.txt)' : ''),
        );
        if (!culprit || !culprit.change.endsWith(culpritSha ?? '-')) {
          out('the culprit named is not the commit that broke the test');
          return 1;
        }
        if (opts.keep) {
          out(`\n--keep: the server stays up at ${server.url}/ ; press Ctrl-C to stop`);
          await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        }
        return 0;
      }
    }
  } finally {
    await server.stop();
    logStream.end();
  }
}
