// Applying a repo config to a queue: only when it would change the queue's core settings, CI target,
// report settings or owner, so that every push does not rewrite it; never to a queue another owns.
import type { QueueSettings } from '../core/index.ts';
import { toQueueSettings, type QueueCi, type RepoConfig } from '../config/repo.ts';
import type { QueueView } from '../store/types.ts';
import type { Engine } from './engine.ts';
import { QueueOwnedError } from './options.ts';

/** Whether a config was applied (or changed nothing), or refused because another owns the queue. */
export type ConfigureOutcome = { refused: true; owner: string } | { refused: false };

/** Submits a `configure` step with the config when it changes the queue; a queue another owns is refused. */
export async function configureQueue(
  engine: Engine,
  target: { queue: string; config: RepoConfig; ci: QueueCi; at: number; owner?: string | undefined },
): Promise<ConfigureOutcome> {
  const { queue, config, ci, at, owner } = target;
  const settings = toQueueSettings(config);
  const file = await engine.reads.queue(queue);
  if (owner && file?.owner && file.owner !== owner) return { refused: true, owner: file.owner };
  if (!configChanges(file, { settings, config, ci, owner })) return { refused: false };
  try {
    const setup = { ci, repoConfig: config, ...(owner ? { owner } : {}) };
    await engine.submit(queue, { type: 'configure', at, settings }, { setup });
  } catch (err) {
    if (err instanceof QueueOwnedError) return { refused: true, owner: err.owner };
    throw err;
  }
  return { refused: false };
}

export function configChanges(
  file: QueueView | null,
  change: { settings: Partial<QueueSettings>; config: RepoConfig; ci: QueueCi; owner?: string | undefined },
): boolean {
  if (!file) return true;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return !(
    (!change.owner || file.owner === change.owner) &&
    same({ ...file.state.settings, ...change.settings }, file.state.settings) &&
    same(file.repoConfig, change.config) &&
    same(file.ci, change.ci)
  );
}
