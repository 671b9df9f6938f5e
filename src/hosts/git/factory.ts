// The git host from the server config: on when `git:` lists repositories to watch. Each is polled;
// verdicts go to the log and, with `notes: true`, to git notes pushed back to the repository.
import type { HostFactory } from '../types.ts';
import { GitReporter } from './reporter.ts';
import { GitWatcher } from './watcher.ts';

export const gitHostFactory: HostFactory = {
  id: 'git',
  howToEnable: 'list repositories under git: in OST_SERVER_CONFIG',
  async create({ config, engine, log, dataDir, providers }) {
    if (config.git.length === 0) return null;
    const watchers = config.git.map(
      (repo) => new GitWatcher(repo, { engine, dataDir, log, sharedQueues: config.queues, providers }),
    );
    return {
      id: 'git',
      reporter: new GitReporter(watchers, log),
      changeLabel: (c) => c.sha.slice(0, 10),
      summary: `watching ${config.git.map((g) => `${g.name} (${g.url} ${g.branch})`).join(', ')}`,
      async start() {
        for (const w of watchers) await w.start();
      },
      stop() {
        for (const w of watchers) w.stop();
      },
    };
  },
};
