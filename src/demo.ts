// `ost-gate demo`: the whole bot on the embedded defaults. A temporary git repository receives about
// twenty commits; one breaks its test script, which also fails at random one run in ten. The real
// server watches the repository with the git host, runs the script with a command runner, and
// stores everything with lowdb; the demo prints every verdict as it lands and reverts the culprit
// the way a developer would. The mails it would send (to a list, and to the culprit's author) are
// written as .eml files to a directory. It exits 0 once every change has its final verdict.
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VerdictRecord } from './core/index.ts';
import { configRules } from './registry.ts';
import { createLogger } from './log.ts';
import { startServer } from './serve.ts';
import type { QueueView } from './store/types.ts';

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
  email:
    to: [infra@demo.invalid]
    author: true
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
  /** Where the mails are written as .eml files (default: mail/ in the demo's directory). */
  mailDir?: string;
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

/** A new repository with the test script, a good value and the repo config, in `dir`. */
async function createRepository(dir: string): Promise<string> {
  const repo = join(dir, 'repo');
  await mkdir(join(repo, 'src'), { recursive: true });
  await exec('git', ['init', '--quiet', '-b', 'master', repo]);
  await writeFile(join(repo, 'test.sh'), TEST_SCRIPT);
  await writeFile(join(repo, 'value.txt'), 'ok\n');
  await writeFile(join(repo, '.ost-gate.yml'), REPO_CONFIG);
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '--quiet', '-m', 'initial: test script and config');
  await writeFile(join(dir, 'runner.mjs'), RUNNER);
  return repo;
}

/** The real server watching `repo` with the git host, its JSON log in a file of its own. */
async function startDemoServer(dir: string, repo: string, port: number | undefined, mailDir: string) {
  const config = configRules.validateServer({
    email: { dir: mailDir, from: 'ost-gate demo <ost-gate@demo.invalid>' },
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
  const listenPort = port ?? (process.env.PORT ? Number(process.env.PORT) : 0);
  try {
    const server = await startServer({ env, config, log, port: listenPort });
    return { server, logFile, logStream };
  } catch (err) {
    logStream.end();
    throw err;
  }
}

/** What the developers do in the demo's repository, and what the demo knows of it. */
class DemoRepository {
  readonly titles = new Map<string, string>();
  readonly shas: string[] = [];
  culpritSha: string | null = null;
  revertSha: string | null = null;

  constructor(private readonly repo: string) {}

  /** Merges COMMITS changes, two at a time; change BROKEN_AT breaks value.txt. */
  async commitChanges(): Promise<void> {
    for (let i = 1; i <= COMMITS; i++) {
      await writeFile(join(this.repo, 'src', `feature-${i}.txt`), `feature ${i}\n`);
      if (i === BROKEN_AT) await writeFile(join(this.repo, 'value.txt'), 'broken\n');
      const title = i === BROKEN_AT ? `change ${i}: refactor value handling` : `change ${i}: add feature ${i}`;
      const sha = await this.commit(title);
      if (i === BROKEN_AT) this.culpritSha = sha;
      if (i % 2 === 0) await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Reverts `sha`, as a developer told of its culprit verdict would. */
  async revert(sha: string): Promise<void> {
    await git(this.repo, 'revert', '--no-edit', sha);
    this.revertSha = await git(this.repo, 'rev-parse', 'HEAD');
    this.titles.set(this.revertSha, `revert of ${sha.slice(0, 8)}`);
    this.shas.push(this.revertSha);
  }

  /** A change as the demo prints it: its short sha and title. */
  name(id: string): string {
    const sha = id.split('@')[1] ?? id;
    return `${sha.slice(0, 8)} ${this.titles.get(sha) ?? ''}`.trim();
  }

  private async commit(title: string): Promise<string> {
    await git(this.repo, 'add', '-A');
    await git(this.repo, 'commit', '--quiet', '-m', title);
    const sha = await git(this.repo, 'rev-parse', 'HEAD');
    this.shas.push(sha);
    this.titles.set(sha, title);
    return sha;
  }
}

/** One line per verdict: the symbol, the change, and the culprit's confidence or the change blocking it. */
function verdictLine(v: VerdictRecord, repo: DemoRepository): string {
  const extra =
    v.verdict === 'culprit'
      ? ` (confidence ${(v.confidence ?? 0).toFixed(4)}, run ${v.run ?? '?'})`
      : v.culprit && v.culprit !== v.change
        ? ` by ${repo.name(v.culprit)}`
        : '';
  return `${SYMBOL[v.verdict] ?? v.verdict}  ${repo.name(v.change)}${extra}`;
}

export async function runDemo(opts: DemoOptions): Promise<number> {
  const { out } = opts;
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), 'ost-gate-demo-'));
  const repo = new DemoRepository(await createRepository(dir));
  const mailDir = opts.mailDir ?? join(dir, 'mail');
  const { server, logFile, logStream } = await startDemoServer(dir, join(dir, 'repo'), opts.port, mailDir);
  const queueApi = `${server.url}/api/queues/${encodeURIComponent(QUEUE)}`;
  out(`ost-gate demo: repository ${join(dir, 'repo')}`);
  out(`server log: ${logFile}`);
  out(`mails (to infra@demo.invalid and the culprit's author), as .eml files: ${mailDir}`);
  out(`dashboard: ${server.url}/   queue API: ${queueApi}`);
  out(
    `merging ${COMMITS} commits; commit ${BROKEN_AT} breaks the test, and the test also fails at random 1 run in 10\n`,
  );
  const committing = repo.commitChanges();
  const shown = new Set<string>();
  try {
    for (;;) {
      if (Date.now() - started > DEADLINE_MS) {
        out(`\nthe demo did not finish within ${DEADLINE_MS / 1000} s; the queue is at ${queueApi}`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 150));
      const file = await server.engine.reads.queue(QUEUE);
      if (!file) continue;
      for (const v of file.state.verdicts) {
        const mark = `${v.change}:${v.verdict}:${v.at}`;
        if (shown.has(mark) || v.retracted) continue;
        shown.add(mark);
        out(verdictLine(v, repo));
        if (v.verdict === 'culprit' && !repo.revertSha) {
          const sha = v.change.split('@')[1]!;
          await committing;
          out(`         a developer reverts ${sha.slice(0, 8)}`);
          await repo.revert(sha);
        }
      }
      await committing;
      const live = new Map<string, VerdictRecord>();
      for (const v of file.state.verdicts) if (!v.retracted) live.set(v.change, v);
      if (repo.revertSha && repo.shas.every((s) => live.has(`git:demo@${s}`))) {
        const ok = summarize({ out, repo, live, file, seconds: (Date.now() - started) / 1000 });
        await server.engine.idle();
        const mails = (await readdir(mailDir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
        out(`${mails.length} mail(s) written to ${mailDir}`);
        if (ok && opts.keep) {
          out(`\n--keep: the server stays up at ${server.url}/ ; press Ctrl-C to stop`);
          await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        }
        return ok ? 0 : 1;
      }
    }
  } finally {
    await server.stop();
    logStream.end();
  }
}

/** The demo's last lines: how long, how many runs and flakes, and whether the culprit is the one that broke the test. */
function summarize(end: {
  out: (line: string) => void;
  repo: DemoRepository;
  live: Map<string, VerdictRecord>;
  file: QueueView;
  seconds: number;
}): boolean {
  const { out, repo, live, file } = end;
  const culprit = [...live.values()].find((v) => v.verdict === 'culprit');
  const right = !!culprit && culprit.change.endsWith(repo.culpritSha ?? '-');
  out(
    `\nevery change has its verdict after ${end.seconds.toFixed(1)} s; ` +
      `${file.state.stats.runsFinished} runs finished, ${file.state.stats.flakes} flaky failure(s) recognised`,
  );
  out(`culprit: ${culprit ? repo.name(culprit.change) : 'none'}${right ? ' (the commit that broke value.txt)' : ''}`);
  if (!right) out('the culprit named is not the commit that broke the test');
  return right;
}
