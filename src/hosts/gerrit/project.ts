// What every Gerrit handler needs of a project: its config (`.ost-gate.yml` at the tip of the tracked
// branch), where a branch's changes are placed, and the review message that tells the people of a
// change that the config it brought is not valid.
import { streamId } from '../../core/index.ts';
import type { ConfigError } from '../../config/errors.ts';
import { REPO_CONFIG_FILE } from '../../config/repo.ts';
import { loadRepoConfig, type Placement, type RepoOwner } from '../common/repo-config.ts';
import type { CommonDeps } from '../common/host-deps.ts';
import type { GerritClient } from './client.ts';
import { TAG } from './events.ts';

export const HOST = 'gerrit';

/** What the Gerrit handlers share: the REST client, and the engine, config rules, log and clock. */
export interface GerritProjects {
  client: GerritClient;
  common: CommonDeps;
  /** Projects already logged as not gated. */
  unconfigured: Set<string>;
}

/** A project's namespace is its Gerrit host: it may name queues `gerrit:<host>/...` and join declared ones. */
export function ownerOf(projects: GerritProjects, project: string): RepoOwner {
  const host = projects.client.host;
  return { namespace: `${HOST}:${host}/`, member: `${HOST}:${host}/${project}` };
}

/** The queue of a project's branch when its config names no shared queue: one per stream. */
export function streamQueue(projects: GerritProjects, project: string, branch: string): string {
  return streamId({ host: HOST, project: `${projects.client.host}/${project}`, branch });
}

/**
 * The config at the branch tip and its queue; a bad one is told through `announce` (a review message
 * on the change that merged it; a push past review has none: the log and the queue's notice say it).
 */
export function placement(
  projects: GerritProjects,
  where: { project: string; branch: string },
  announce: (text: string) => Promise<void>,
): Promise<Placement | null> {
  const { project, branch } = where;
  const source = `${project}:${REPO_CONFIG_FILE} on ${branch}`;
  return loadRepoConfig(projects.common, {
    branch,
    owner: ownerOf(projects, project),
    source,
    read: async () => {
      const text = await projects.client.branchFile(project, branch, REPO_CONFIG_FILE);
      return text === null ? null : projects.common.rules.parseRepo(text, source);
    },
    defaultQueue: streamQueue(projects, project, branch),
    stream: streamId({ host: HOST, project, branch }),
    context: { project },
    announce: (_err: ConfigError, text: string) => announce(text),
  });
}

/** Tells the people of change `number` that the config it brought is not valid. */
export async function configError(
  projects: GerritProjects,
  change: { project: string; number: number },
  text: string,
): Promise<void> {
  await projects.client.review(change.project, change.number, 'current', {
    message: `ost-gate: config error\n${text}`,
    tag: TAG,
    notify: 'OWNER',
  });
}

export function notGated(projects: GerritProjects, where: { project: string; branch: string }): void {
  const { project, branch } = where;
  if (!projects.unconfigured.has(project))
    projects.common.log.info({ project }, `${project} has no ${REPO_CONFIG_FILE} on ${branch}; not gated`);
  projects.unconfigured.add(project);
}
