// What every code host is built with from the server: the engine, the log and clock, the public URL
// for links, the queues the server config declares, and the CI providers it has.
import type { SharedQueue } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import { silentLogger, type Logger } from '../../log.ts';
import type { RepoConfigDeps } from './repo-config.ts';

export interface HostDeps {
  engine: Engine;
  log?: Logger | undefined;
  now?: (() => number) | undefined;
  publicUrl?: string | undefined;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>> | undefined;
  /** The CI providers the server has, to refuse a config naming another. */
  providers?: (() => readonly string[]) | undefined;
}

/** The host's dependencies as the config rules and the command loop take them, with the defaults filled in. */
export type CommonDeps = RepoConfigDeps & { log: Logger; now: () => number; publicUrl?: string | undefined };

export function commonDeps(deps: HostDeps): CommonDeps {
  return {
    engine: deps.engine,
    log: deps.log ?? silentLogger,
    now: deps.now ?? Date.now,
    publicUrl: deps.publicUrl,
    sharedQueues: deps.sharedQueues ?? {},
    providers: deps.providers,
  };
}
