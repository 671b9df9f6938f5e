// The git host: polls a branch of a repository (a local path or any URL git can fetch); every new
// first-parent commit is a change. The repo config is `.ost-gate.yml` at the branch tip.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { streamId, type ChangeInput, type CoreEvent } from '../../core/index.ts';
import { REPO_CONFIG_FILE, type RepoConfig } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';
import { safeSlug } from '../../store/slug.ts';
import { GitMirror, type Commit } from './client.ts';
import { changeInput } from '../common/change-input.ts';
import { revertedShas } from '../common/footers.ts';
import { commonDeps, type CommonDeps, type HostDeps } from '../common/host-deps.ts';
import { loadRepoConfig, type Placement } from '../common/repo-config.ts';
import type { WatchedRepository } from './config.ts';

export type GitRepoOptions = WatchedRepository;

const CONFIG_FILE = REPO_CONFIG_FILE;

/** `git:<name>@<sha>`. */
export function gitChangeId(name: string, sha: string): string {
  return `git:${name}@${sha}`;
}

interface Position {
  /** Last tip handed to the queue. */
  tip: string | null;
}

/** What a watcher works with besides its repository. */
export interface GitWatcherDeps extends HostDeps {
  /** OST_DATA_DIR: the mirror and the watcher's position live under it. */
  dataDir: string;
}

export class GitWatcher {
  readonly mirror: GitMirror;
  private readonly positionFile: string;
  private position: Position = { tip: null };
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private warnedNoConfig = false;

  private readonly common: CommonDeps;
  private readonly engine: Engine;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    readonly repo: GitRepoOptions,
    deps: GitWatcherDeps,
  ) {
    this.common = commonDeps(deps);
    this.engine = deps.engine;
    this.log = this.common.log;
    this.now = this.common.now;
    const { dataDir } = deps;
    const slug = safeSlug(`${repo.name}@${repo.branch}`);
    this.mirror = new GitMirror(join(dataDir, 'git', `${slug}.git`), repo.url);
    this.positionFile = join(dataDir, 'git', `${slug}.position.json`);
  }

  /** `git:<name>@<branch>`: the stream of this repository's branch, and its own queue. */
  get streamId(): string {
    return streamId({ host: 'git', project: this.repo.name, branch: this.repo.branch });
  }

  async start(): Promise<void> {
    try {
      this.position = JSON.parse(await readFile(this.positionFile, 'utf8')) as Position;
    } catch {
      // first start on this disk: a queue in a shared database may know the branch already
      this.position = { tip: await this.queuedTip() };
    }
    await this.pollOnce();
    this.timer = setInterval(() => void this.pollOnce(), this.repo.interval);
  }

  /** The newest commit of this branch a queue has, or null (another replica watched it before). */
  private async queuedTip(): Promise<string | null> {
    for (const file of await this.engine.reads.all()) {
      const tip = file.state.streams[this.streamId]?.tip;
      if (tip) return tip;
    }
    return null;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Polls once (never two polls at a time); errors are logged, and the next poll tries again. */
  pollOnce(): Promise<void> {
    if (!this.polling) {
      this.polling = this.poll()
        .catch((err) =>
          this.log.error(
            { repo: this.repo.name, err: (err as Error).message },
            `polling ${this.repo.url} failed; trying again in ${this.repo.interval} ms`,
          ),
        )
        .finally(() => {
          this.polling = null;
        });
    }
    return this.polling;
  }

  private async savePosition(): Promise<void> {
    await writeFile(this.positionFile, JSON.stringify(this.position));
  }

  private async poll(): Promise<void> {
    const tip = await this.mirror.fetch(this.repo.branch);
    if (!tip) {
      this.log.warn({ repo: this.repo.name }, `branch ${this.repo.branch} not found in ${this.repo.url}`);
      return;
    }
    if (tip === this.position.tip) return;
    const placement = await this.readConfig(tip);
    if (!placement) {
      if (!this.warnedNoConfig)
        this.log.info(
          { repo: this.repo.name },
          `${this.repo.name}@${this.repo.branch} is not gated (no ${CONFIG_FILE}, or ${this.repo.branch} is not in its branches)`,
        );
      this.warnedNoConfig = true;
      this.position.tip = tip;
      await this.savePosition();
      return;
    }
    const before = this.position.tip;
    if (before === null) {
      this.log.info(
        { repo: this.repo.name, tip },
        `watching ${this.repo.url} ${this.repo.branch} from ${tip.slice(0, 10)}; later commits are tested`,
      );
      this.position.tip = tip;
      await this.savePosition();
      return;
    }
    const forced = !(await this.mirror.isAncestor(before, tip));
    const base = forced ? await this.mirror.mergeBase(before, tip) : before;
    const commits = await this.mirror.firstParentRange(base, tip);
    const { queue, config } = placement;
    const changes = await Promise.all(commits.map((c) => this.toChange(c, config)));
    const event: CoreEvent = {
      type: 'merged',
      at: this.now(),
      stream: { host: 'git', project: this.repo.name, branch: this.repo.branch },
      before,
      after: tip,
      forced,
      changes,
    };
    await this.engine.submit(queue, event, { delivery: `git:${this.repo.name}:${before}..${tip}` });
    this.log.info(
      { repo: this.repo.name, queue, count: changes.length, forced },
      `${changes.length} new change(s) on ${this.repo.name}@${this.repo.branch}${forced ? ' after a force-push' : ''}`,
    );
    this.position.tip = tip;
    await this.savePosition();
  }

  /** The config at `sha` and its queue, or the last good one (with an error logged and noticed) when it is invalid. */
  private readConfig(sha: string): Promise<Placement | null> {
    return loadRepoConfig(this.common, {
      branch: this.repo.branch,
      // the repositories watched are the operator's: they may share queues named `git:...` among themselves
      owner: { namespace: 'git:', member: `git:${this.repo.name}` },
      source: `${this.repo.name}:${CONFIG_FILE} at ${sha.slice(0, 10)}`,
      read: async () => {
        const text = await this.mirror.show(sha, CONFIG_FILE);
        return text === null
          ? null
          : this.common.rules.parseRepo(text, `${this.repo.name}:${CONFIG_FILE} at ${sha.slice(0, 10)}`);
      },
      defaultQueue: this.streamId,
      stream: this.streamId,
      context: { repo: this.repo.name },
      // a plain git repository has nowhere to post: the log and the dashboard notice say it
      announce: async () => undefined,
    });
  }

  private async toChange(c: Commit, config: RepoConfig): Promise<ChangeInput> {
    const base: ChangeInput = {
      id: gitChangeId(this.repo.name, c.sha),
      sha: c.sha,
      parent: c.parent,
      title: c.subject,
      author: c.author,
      authorEmail: c.authorEmail || null,
      mergedAt: c.committedAt,
      url: null,
    };
    return changeInput(base, {
      text: c.body,
      dependencyId: (d) => (/^[0-9a-f]{7,40}$/i.test(d) ? gitChangeId(this.repo.name, d) : d),
      reverts: revertedShas(c.body).flatMap((sha) => [sha, gitChangeId(this.repo.name, sha)]),
      files: config.paths_ignore.length > 0 ? await this.mirror.changedFiles(c.sha) : null,
      pathsIgnore: config.paths_ignore,
    });
  }
}
