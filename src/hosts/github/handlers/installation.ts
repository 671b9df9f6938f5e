// The App installed on repositories, or taken off them: logged with the repositories concerned; a
// repository the App was taken off is forgotten by the installation cache (its tokens would be
// refused), and each of its queues gets a notice that no new change will come through GitHub.
import type { Context } from 'probot';
import type { GithubApp } from '../repository.ts';

type InstallationEvent = 'installation' | 'installation_repositories';

interface InstallationPayload {
  action?: string;
  installation?: { account?: { login?: string } | null };
  repositories?: { full_name?: string }[];
  repositories_added?: { full_name?: string }[];
  repositories_removed?: { full_name?: string }[];
}

export async function onInstallation(app: GithubApp, context: Context<InstallationEvent>): Promise<void> {
  const p = context.payload as InstallationPayload;
  const { added, removed } = repositoriesConcerned(p);
  app.common.log.info(
    { event: context.name, action: p.action, account: p.installation?.account?.login, added, removed },
    `GitHub App ${context.name}.${p.action ?? ''}` +
      (added.length ? `: installed on ${added.join(', ')}` : '') +
      (removed.length ? `: taken off ${removed.join(', ')}` : ''),
  );
  for (const repo of removed) {
    app.deps.installations?.forget(repo);
    await noteRemoval(app, repo);
  }
}

/** The repositories an installation event adds the App to and takes it off. */
function repositoriesConcerned(p: InstallationPayload): { added: string[]; removed: string[] } {
  const names = (list: { full_name?: string }[] | undefined) =>
    (list ?? []).flatMap((r) => (r.full_name ? [r.full_name] : []));
  const all = names(p.repositories);
  return {
    added: [...names(p.repositories_added), ...(p.action === 'created' ? all : [])],
    removed: [...names(p.repositories_removed), ...(p.action === 'deleted' ? all : [])],
  };
}

/** A notice on each queue of the repository's branches: its changes stop coming. */
async function noteRemoval(app: GithubApp, repo: string): Promise<void> {
  const prefix = `github:${repo}@`;
  const queues = (await app.deps.engine.reads.queues()).filter((q) => q.startsWith(prefix));
  for (const queue of queues)
    await app.deps.engine.addNotice(queue, {
      at: app.common.now(),
      level: 'warn',
      code: 'app-removed',
      message: `the GitHub App was taken off ${repo}: no new change of it comes to this queue, and its verdicts cannot be posted there`,
    });
}
