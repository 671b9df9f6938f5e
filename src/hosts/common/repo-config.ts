// The repo config as every host loads it, and the queue it places a branch's changes in.
// - Read from the tracked branch and validated; when it is invalid the last good config stays in
//   force, with a notice on the dashboard, an error in the log, and a message where the people who
//   merged it will see it (each host says how).
// - A queue belongs to one repository (its own stream queues, and a `queue:` name it declares) or to
//   the operator (a queue declared under `queues:` in the server config, with its members). Only the
//   owner's config sets a queue's settings. A repository joins another's queue only through a declared
//   queue that lists it; naming another repository's queue (or a declared queue it is not a member of)
//   is refused: its changes go to their own queue, it is told as for a bad config, and the queue it
//   named gets a notice and is not changed. The declared settings of a shared queue win over its
//   members'; a member that disagrees gets a notice.
import picomatch from 'picomatch';
import { ConfigError } from '../../config/errors.ts';
import { providerProblem } from '../../ci/index.ts';
import { ciTarget, type QueueCi, type RepoConfig, type SharedQueue } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';

/** What every config error message ends with. */
export const LAST_GOOD_NOTE = 'The last good config stays in force; no queued change is dropped.';

/** Who a repository is, for deciding which queues it may join. */
export interface RepoOwner {
  /** The prefix of the queues it may name on its own: `github:octo/`, `gerrit:<host>/`, `git:`. */
  namespace: string;
  /** The repository as a shared queue lists its members: `github:octo/repo`, `gerrit:<host>/<project>`. */
  member: string;
  /** For github-actions: the repository a workflow is dispatched in (`owner/repo`). */
  repository?: string;
}

/** Where a branch's changes go, and the settings in force there. */
export interface Placement {
  queue: string;
  config: RepoConfig;
  ci: QueueCi;
}

export interface RepoConfigRead {
  /** Reads and validates the config on the tracked branch; null when there is none. Throws ConfigError. */
  read(): Promise<RepoConfig | null>;
  /** The branch: not gated unless the config lists it under `branches`. */
  branch: string;
  /** The queue of the branch's own stream. */
  defaultQueue: string;
  /** The stream id of the branch (`<host>:<project>@<branch>`), to find a shared queue it feeds. */
  stream: string;
  owner: RepoOwner;
  /** For messages: `owner/repo:.github/ost-gate.yml on main`. */
  source: string;
  /** Tells the people who merged a bad config, on the code host (a check run, a review message). */
  announce(err: ConfigError, text: string): Promise<unknown>;
  /** What to log with the error (the repository, the project). */
  context: Record<string, unknown>;
}

export interface RepoConfigDeps {
  engine: Engine;
  log: Logger;
  now: () => number;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>>;
  /** The CI providers the server has; a config naming another is not valid. Unset: not checked. */
  providers?: (() => readonly string[]) | undefined;
  /** What this server's config finds wrong in a repo config (mail it cannot send); none: valid. */
  serverProblems?: ((config: RepoConfig) => string[]) | undefined;
}

/** Who owns a queue declared in the server config. */
export const OPERATOR = 'the server config';

interface Decision extends Placement {
  /** Who owns the queue placed in: the repository itself, or OPERATOR. */
  owner: string;
  /** Why the config's `queue:` was refused (the changes go to their own queue). */
  refused?: string;
  /** The queue the config named when it belongs to someone else: it is told that someone tried. */
  named?: string;
  /** Settings of the member that the shared queue's declared ones overrode. */
  overridden?: string[];
}

/** The repository that owns a stream queue (`<member>@<branch>`), or null for a queue that is no stream's. */
function streamQueueOwner(queue: string): string | null {
  const at = queue.indexOf('@');
  return at > 0 ? queue.slice(0, at) : null;
}

/**
 * Which queue `config` places the branch in, under the rules in this file's header. A queue named
 * in the repository's namespace is its own unless another repository's stream queue; whether a
 * queue of that name already belongs to someone else is for the engine to say (configure).
 */
export function placeQueue(
  config: RepoConfig,
  owner: RepoOwner,
  defaultQueue: string,
  shared: Readonly<Record<string, SharedQueue>> = {},
): Decision {
  const own = (queue: string, refused?: string, named?: string): Decision => ({
    queue,
    config: { ...config, queue: undefined },
    ci: ciTarget(config, owner.repository),
    owner: owner.member,
    ...(refused ? { refused } : {}),
    ...(named ? { named } : {}),
  });
  const name = config.queue;
  if (!name) return own(defaultQueue);
  const declared = Object.hasOwn(shared, name) ? shared[name] : undefined;
  if (declared) {
    if (!picomatch(declared.members)(owner.member))
      return own(
        defaultQueue,
        `${owner.member} is not a member of the shared queue ${name} (see queues: in the server config)`,
        name,
      );
    const { members: _m, repository, ...sections } = declared;
    const set = Object.fromEntries(Object.entries(sections).filter(([, v]) => v !== undefined));
    const effective = { ...config, ...set, queue: name } as RepoConfig;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const overridden = (['ci', 'commands'] as const).filter((k) => k in set && !same(config[k], effective[k]));
    return {
      queue: name,
      config: effective,
      ci: ciTarget(effective, repository ?? owner.repository),
      owner: OPERATOR,
      ...(overridden.length ? { overridden } : {}),
    };
  }
  const qualified = name.includes(':') ? name : `${owner.namespace}${name}`;
  if (!qualified.startsWith(owner.namespace))
    return own(
      defaultQueue,
      `queue ${name} belongs to another owner; a repository may name its own queues (under ${owner.namespace}) ` +
        'and the shared queues the server config declares with it as a member',
    );
  const streamOwner = streamQueueOwner(qualified);
  if (streamOwner !== null && streamOwner !== owner.member)
    return own(defaultQueue, refusal(qualified, streamOwner), qualified);
  return { ...own(qualified), config: { ...config, queue: qualified } };
}

function refusal(queue: string, owner: string): string {
  return (
    `queue ${queue} belongs to ${owner}, and only its owner's config sets it; to share a queue between ` +
    'repositories, the operator declares it under queues: in the server config with both as members'
  );
}

/**
 * Places the branch's changes by `config` and configures that queue, which the repository claims
 * when nobody owns it yet. A queue owned by someone else is left as it is: the changes go to the
 * branch's own queue instead, the repository is told, and the queue it named gets a notice.
 */
export async function settlePlacement(
  deps: RepoConfigDeps,
  read: Omit<RepoConfigRead, 'read'>,
  config: RepoConfig,
): Promise<Placement> {
  let decision = placeQueue(config, read.owner, read.defaultQueue, deps.sharedQueues);
  const claimed = await deps.engine.configure(decision.queue, decision.config, decision.ci, deps.now(), decision.owner);
  if (claimed.refused) {
    const named = decision.queue;
    decision = { ...placeQueue({ ...config, queue: undefined }, read.owner, read.defaultQueue), named };
    decision.refused = refusal(named, claimed.owner);
    await deps.engine.configure(decision.queue, decision.config, decision.ci, deps.now(), decision.owner);
  }
  if (decision.refused) {
    const err = new ConfigError(read.source, [`queue: got ${JSON.stringify(config.queue)}; ${decision.refused}`]);
    await complain(deps, read, {
      err,
      queue: decision.queue,
      code: 'queue-refused',
      outcome: 'The changes go to their own queue.',
    });
    if (decision.named) {
      const message =
        `${read.owner.member} named this queue in ${read.source}; refused, nothing here was changed, ` +
        `and its changes went to ${decision.queue}`;
      deps.log.warn({ ...read.context, queue: decision.named }, message);
      await deps.engine.addNotice(decision.named, { at: deps.now(), level: 'warn', code: 'queue-claim', message });
    }
  }
  if (decision.overridden) {
    const message =
      `${read.owner.member} sets ${decision.overridden.join(' and ')} differently from the shared queue ` +
      `${decision.queue}; the settings declared in the server config are used`;
    deps.log.warn({ ...read.context, queue: decision.queue }, message);
    await deps.engine.addNotice(decision.queue, {
      at: deps.now(),
      level: 'warn',
      code: 'shared-queue-settings',
      message,
    });
  }
  return { queue: decision.queue, config: decision.config, ci: decision.ci };
}

/**
 * The config in force for a branch and the queue its changes go to, with that queue configured.
 * An invalid config falls back to the last good one. Null when the branch is not gated: there is no
 * config (a missing file, or no good config ever), or its `branches` do not list the branch.
 */
export async function loadRepoConfig(deps: RepoConfigDeps, read: RepoConfigRead): Promise<Placement | null> {
  let config: RepoConfig | null;
  try {
    config = await read.read();
    if (config) checkProvider(deps, config, read.source);
    const problems = config ? (deps.serverProblems?.(config) ?? []) : [];
    if (problems.length) throw new ConfigError(read.source, problems);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    config = await lastGood(deps, read, err);
  }
  if (!config || !config.branches.includes(read.branch)) return null;
  return settlePlacement(deps, read, config);
}

/**
 * Refuses a config whose `ci.provider` this server cannot dispatch to (a `command:` or `webhook:`
 * name it does not declare, Jenkins without JENKINS_URL...), unless a declared shared queue's own
 * CI settings replace it.
 */
function checkProvider(deps: RepoConfigDeps, config: RepoConfig, source: string): void {
  if (!deps.providers || (config.queue && deps.sharedQueues && Object.hasOwn(deps.sharedQueues, config.queue))) return;
  const problem = providerProblem(config.ci.provider, deps.providers());
  if (problem) throw new ConfigError(source, [`ci.provider: ${problem}`]);
}

async function lastGood(deps: RepoConfigDeps, read: RepoConfigRead, err: ConfigError): Promise<RepoConfig | null> {
  const last = await deps.engine.reads.lastRepoConfig(read.defaultQueue, read.stream);
  const queue = last ? placeQueue(last, read.owner, read.defaultQueue, deps.sharedQueues).queue : read.defaultQueue;
  await complain(deps, read, { err, queue, code: 'config-invalid', outcome: LAST_GOOD_NOTE });
  return last;
}

/** Logs a config problem, notes it on the queue's dashboard, and tells the code host. */
async function complain(
  deps: RepoConfigDeps,
  read: Omit<RepoConfigRead, 'read'>,
  problem: { err: ConfigError; queue: string; code: string; outcome: string },
): Promise<void> {
  const { err, queue, code, outcome } = problem;
  const text = `${err.message}\n${outcome}`;
  deps.log.error({ ...read.context, problems: err.problems }, text);
  await deps.engine.addNotice(queue, { at: deps.now(), level: 'error', code, message: text });
  await read
    .announce(err, text)
    .catch((e) => deps.log.warn({ err: (e as Error).message }, 'could not post the config error on the code host'));
}
