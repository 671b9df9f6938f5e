// What every code host is built with from the server: the engine, the config rules, the log and
// clock, the public URL for links, the queues the server config declares, and the CI providers it has.
import type { SharedQueue } from '../../config/repo.ts';
import type { ConfigRules } from '../../config/rules.ts';
import type { Engine } from '../../engine/engine.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { notifyProblemsOn } from '../../notify/config.ts';
import type { HostContext } from '../types.ts';
import type { RepoConfigDeps } from './repo-config.ts';

export interface HostDeps {
  engine: Engine;
  /** How a repo config is read and checked: the schemas of the runner kinds and hosts the server knows. */
  rules: ConfigRules;
  log?: Logger | undefined;
  now?: (() => number) | undefined;
  publicUrl?: string | undefined;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>> | undefined;
  /** The CI providers the server has, to refuse a config naming another. */
  providers?: (() => readonly string[]) | undefined;
  /** What the server config finds wrong in a repo config (repo-config.ts). */
  serverProblems?: RepoConfigDeps['serverProblems'];
}

/** The host's dependencies as the config rules and the command loop take them, with the defaults filled in. */
export type CommonDeps = RepoConfigDeps & {
  rules: ConfigRules;
  log: Logger;
  now: () => number;
  publicUrl?: string | undefined;
};

export function commonDeps(deps: HostDeps): CommonDeps {
  return {
    engine: deps.engine,
    rules: deps.rules,
    log: deps.log ?? silentLogger,
    now: deps.now ?? Date.now,
    publicUrl: deps.publicUrl,
    sharedQueues: deps.sharedQueues ?? {},
    providers: deps.providers,
    serverProblems: deps.serverProblems,
  };
}

/** The dependencies a host factory hands its host, from what the server gives it. */
export function hostDeps(ctx: HostContext): HostDeps {
  const { engine, rules, log, publicUrl, providers, config } = ctx;
  const serverProblems = notifyProblemsOn(config);
  return { engine, rules, log, publicUrl, providers, sharedQueues: config.queues, serverProblems };
}
