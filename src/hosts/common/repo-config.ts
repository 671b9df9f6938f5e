// The repo config as every host loads it: read from the tracked branch, validated, and when it is
// invalid the last good config stays in force, with a notice on the dashboard, an error in the log,
// and a message where the people who merged it will see it (each host says how).
import { ConfigError } from '../../config/errors.ts';
import type { RepoConfig } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';

/** What every config error message ends with. */
export const LAST_GOOD_NOTE = 'The last good config stays in force; no queued change is dropped.';

/** The queue a branch's changes go to: the config's shared `queue`, or the stream's own. */
export function queueFor(config: RepoConfig | null, defaultQueue: string): string {
  return config?.queue ?? defaultQueue;
}

export interface RepoConfigRead {
  /** Reads and validates the config on the tracked branch; null when there is none. Throws ConfigError. */
  read(): Promise<RepoConfig | null>;
  /** The queue of the branch's own stream, where its last good config is looked up first. */
  defaultQueue: string;
  /** The stream id of the branch (`<host>:<project>@<branch>`), to find a shared queue it feeds. */
  stream: string;
  /** Tells the people who merged a bad config, on the code host (a check run, a review message). */
  announce(err: ConfigError, text: string): Promise<unknown>;
  /** What to log with the error (the repository, the project). */
  context: Record<string, unknown>;
}

export interface RepoConfigDeps {
  engine: Engine;
  log: Logger;
  now: () => number;
}

/**
 * The config in force for a branch: the one on the branch when it is valid; otherwise the last good
 * one (null when there never was one, and the branch is not gated). A missing file means not gated.
 */
export async function loadRepoConfig(deps: RepoConfigDeps, read: RepoConfigRead): Promise<RepoConfig | null> {
  try {
    return await read.read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const text = `${err.message}\n${LAST_GOOD_NOTE}`;
    deps.log.error({ ...read.context, problems: err.problems }, text);
    const last = await deps.engine.lastRepoConfig(read.defaultQueue, read.stream);
    await read
      .announce(err, text)
      .catch((e) => deps.log.warn({ err: (e as Error).message }, 'could not post the config error on the code host'));
    if (last) {
      await deps.engine.addNotice(queueFor(last, read.defaultQueue), {
        at: deps.now(),
        level: 'error',
        code: 'config-invalid',
        message: text,
      });
    }
    return last;
  }
}
