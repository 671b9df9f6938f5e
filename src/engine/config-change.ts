// Whether a repo config would change a queue: its core settings, its CI target, its report settings
// or its owner. A config that changes nothing is not written, so that every push does not rewrite it.
import type { QueueSettings } from '../core/index.ts';
import type { QueueCi, RepoConfig } from '../config/repo.ts';
import type { QueueFile } from '../store/types.ts';

export function configChanges(
  file: QueueFile | null,
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
