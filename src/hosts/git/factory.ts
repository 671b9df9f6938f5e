// The git host from the server config: on when `git:` lists repositories to watch. Each is polled;
// verdicts go to the log and, with `notes: true`, to git notes pushed back to the repository.
import { hostDeps } from '../common/host-deps.ts';
import type { HostFactory } from '../types.ts';
import { gitConfigPart, watchedRepositories } from './config.ts';

export const gitHostFactory: HostFactory = {
  id: 'git',
  config: gitConfigPart,
  howToEnable: 'list repositories under git: in OST_SERVER_CONFIG',
  async create(ctx) {
    const repos = watchedRepositories(ctx.config);
    if (repos.length === 0) return null;
    // the watcher's modules are loaded only for a server that watches repositories
    const [{ GitReporter }, { GitWatcher }] = await Promise.all([import('./reporter.ts'), import('./watcher.ts')]);
    const watchers = repos.map((repo) => new GitWatcher(repo, { ...hostDeps(ctx), dataDir: ctx.dataDir }));
    return {
      id: 'git',
      reporter: new GitReporter(watchers, ctx.log),
      changeLabel: (c) => c.sha.slice(0, 10),
      summary: `watching ${repos.map((g) => `${g.name} (${g.url} ${g.branch})`).join(', ')}`,
      async startSources() {
        for (const w of watchers) await w.start();
      },
      stopSources() {
        for (const w of watchers) w.stop();
      },
      stop() {
        for (const w of watchers) w.stop();
      },
    };
  },
};
