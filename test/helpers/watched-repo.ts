// A local git repository for `ost-gate serve` to watch, in a fresh temporary directory: an initial
// commit with the given `.ost-gate.yml` and `value.txt` holding "ok"; a check script that passes a
// run when value.txt at the run's commit is still "ok"; and a server config with that script as the
// `check` command runner and the repository watched as `app` (branch master, polled every 100 ms).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface WatchedRepo {
  /** The temporary directory holding the repository, the check script and server.yml. */
  dir: string;
  repo: string;
  /** The server config's path (OST_SERVER_CONFIG). */
  serverConfig: string;
  /** Runs git in the repository; its output, trimmed. */
  git: (...args: string[]) => Promise<string>;
}

/** Runs git in `repo` as a test user, without signing; its output, trimmed. */
export function gitIn(repo: string): (...args: string[]) => Promise<string> {
  return async (...args) =>
    (
      await exec('git', [
        '-C',
        repo,
        '-c',
        'user.name=T',
        '-c',
        'user.email=t@example.invalid',
        '-c',
        'commit.gpgsign=false',
        ...args,
      ])
    ).stdout.trim();
}

export async function watchedRepo(repoConfig: string): Promise<WatchedRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'ost-e2e-'));
  const repo = join(dir, 'repo');
  await mkdir(repo);
  const git = gitIn(repo);
  await git('init', '-q', '-b', 'master');
  await writeFile(join(repo, '.ost-gate.yml'), repoConfig);
  await writeFile(join(repo, 'value.txt'), 'ok\n');
  await git('add', '-A');
  await git('commit', '-qm', 'initial');
  await writeFile(
    join(dir, 'check.sh'),
    `#!/bin/sh\nsha=$(echo "$OST_REFS" | sed 's/.*"app":"\\([0-9a-f]*\\)".*/\\1/')\ngit --git-dir "${repo}/.git" show "$sha:value.txt" | grep -qx ok\n`,
  );
  const serverConfig = join(dir, 'server.yml');
  await writeFile(
    serverConfig,
    `runners:\n  check:\n    command: [sh, ${join(dir, 'check.sh')}]\ngit:\n  - name: app\n    url: ${repo}\n    branch: master\n    interval: 100ms\ntick: 200ms\n`,
  );
  return { dir, repo, serverConfig, git };
}
