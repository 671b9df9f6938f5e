// A small typed wrapper over the git command line (no shell): a bare mirror per watched repo.
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TIMEOUT_MS = 120_000;

export interface Commit {
  sha: string;
  parent: string | null;
  subject: string;
  body: string;
  author: string;
  authorEmail: string;
  committedAt: number;
}

export class GitError extends Error {}

export class GitMirror {
  constructor(
    /** Path of the bare mirror this process owns. */
    readonly dir: string,
    /** Where the repository is fetched from: a local path or any URL git can fetch. */
    readonly url: string,
  ) {}

  async git(args: string[], allowFail = false): Promise<string> {
    try {
      const { stdout } = await run('git', ['--git-dir', this.dir, ...args], {
        timeout: TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      });
      return stdout;
    } catch (err) {
      if (allowFail) return '';
      const e = err as { stderr?: string; message: string };
      throw new GitError(
        `git ${args.slice(0, 3).join(' ')} failed: ${(e.stderr || e.message).trim().split('\n').slice(-1)[0]}`,
      );
    }
  }

  async ensure(): Promise<void> {
    const exists = await stat(this.dir).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await mkdir(this.dir, { recursive: true });
    await run('git', ['init', '--bare', '--quiet', this.dir], { timeout: TIMEOUT_MS });
  }

  /** Fetches the branch (forced, so a force-push is seen) and returns its tip, or null if it does not exist. */
  async fetch(branch: string): Promise<string | null> {
    await this.ensure();
    await this.git([
      'fetch',
      '--quiet',
      '--force',
      '--no-tags',
      this.url,
      `+refs/heads/${branch}:refs/heads/${branch}`,
    ]);
    const tip = (await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], true)).trim();
    return tip || null;
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    try {
      await run('git', ['--git-dir', this.dir, 'merge-base', '--is-ancestor', a, b], { timeout: TIMEOUT_MS });
      return true;
    } catch {
      return false;
    }
  }

  async mergeBase(a: string, b: string): Promise<string | null> {
    return (await this.git(['merge-base', a, b], true)).trim() || null;
  }

  /** First-parent commits after `from` (exclusive) up to `to`, oldest first. */
  async firstParentRange(from: string | null, to: string, limit = 500): Promise<Commit[]> {
    const range = from ? `${from}..${to}` : to;
    const out = await this.git([
      'log',
      '--first-parent',
      '--reverse',
      `--max-count=${limit}`,
      '--format=%H%x00%P%x00%an%x00%ae%x00%ct%x00%s%x00%b%x1e',
      range,
    ]);
    return out
      .split('\x1e')
      .map((r) => r.replace(/^\n/, ''))
      .filter((r) => r.trim().length > 0)
      .map((r) => {
        const [sha, parents, author, email, ct, subject, body] = r.split('\x00');
        return {
          sha: sha!,
          parent: parents?.split(' ')[0] || null,
          author: author ?? '',
          authorEmail: email ?? '',
          committedAt: Number(ct) * 1000,
          subject: subject ?? '',
          body: (body ?? '').trim(),
        };
      });
  }

  /** Files a commit changes against its first parent. */
  async changedFiles(sha: string): Promise<string[]> {
    const out = await this.git([
      'diff-tree',
      '--no-commit-id',
      '--name-only',
      '-r',
      '-m',
      '--first-parent',
      '--root',
      sha,
    ]);
    return out.split('\n').filter(Boolean);
  }

  /** A file's content at a commit, or null when it is not there. */
  async show(sha: string, path: string): Promise<string | null> {
    try {
      const { stdout } = await run('git', ['--git-dir', this.dir, 'show', `${sha}:${path}`], { timeout: TIMEOUT_MS });
      return stdout;
    } catch {
      return null;
    }
  }

  async noteFor(ref: string, sha: string): Promise<string> {
    return this.git(['notes', `--ref=${ref}`, 'show', sha], true);
  }

  async appendNote(ref: string, sha: string, text: string): Promise<void> {
    await this.git([
      '-c',
      'user.name=ost-gate',
      '-c',
      'user.email=ost-gate@localhost',
      'notes',
      `--ref=${ref}`,
      'append',
      '-m',
      text,
      sha,
    ]);
  }

  async pushNotes(ref: string): Promise<void> {
    await this.git(['push', '--quiet', this.url, `refs/notes/${ref}:refs/notes/${ref}`]);
  }
}
