// The core's changes for what a Gerrit branch update landed (landing.ts): a change per reviewed
// commit, a stack merged in one commit as one change carrying the others (`landedWith`), and a
// change of its own, `gerrit:<host>/<project>@<sha>`, per commit pushed past review. Footers
// (Depends-On, reverts) and `paths_ignore` are read as on every host (hosts/common).
import type { ChangeInput } from '../../core/index.ts';
import type { RepoConfig } from '../../config/repo.ts';
import type { Logger } from '../../log.ts';
import { changeInput } from '../common/change-input.ts';
import { dependencyId, revertedShas } from '../common/footers.ts';
import { accountName, type GerritClient } from './client.ts';
import { gerritChangeId } from './events.ts';
import type { LandedCommit, Landing } from './landing.ts';
import type { GerritChangeInfo, GerritCommitInfo } from './types.ts';
import { PRIORITY_MARK } from '../common/priority.ts';

export interface LandedChangeDeps {
  client: GerritClient;
  log: Logger;
  /** First-parent commits of one update queued one by one (older ones: one change). */
  pushLimit: number;
}

/** The core's changes for what landed: a change per reviewed commit, a stack per merge, a push per other commit. */
export async function landedChanges(
  deps: LandedChangeDeps,
  project: string,
  config: RepoConfig,
  landing: Landing,
): Promise<ChangeInput[]> {
  const out: ChangeInput[] = [];
  if (landing.cut && landing.base) {
    const base = landing.base;
    out.push({
      id: pushChangeId(deps.client.host, project, base),
      sha: base,
      number: null,
      title: `older commits of a push of more than ${deps.pushLimit}, tested together up to ${base.slice(0, 10)}`,
      url: null,
      author: null,
    });
  }
  for (const commit of landing.commits) out.push(await commitChange(deps, project, config, commit));
  return out;
}

async function commitChange(
  deps: LandedChangeDeps,
  project: string,
  config: RepoConfig,
  commit: LandedCommit,
): Promise<ChangeInput> {
  const { info, changes } = commit;
  const last = changes.at(-1);
  const files = config.paths_ignore.length ? await deps.client.commitFiles(project, commit.sha) : null;
  const facts = {
    text: info.message,
    dependencyId: (d: string) => resolveDependency(deps, d, project),
    reverts: revertedShas(info.message),
    files,
    pathsIgnore: config.paths_ignore,
  };
  if (!last) {
    // pushed past review: the commit is the change
    return changeInput(
      {
        id: pushChangeId(deps.client.host, project, commit.sha),
        sha: commit.sha,
        parent: commit.parent,
        number: null,
        title: info.subject,
        url: info.web_links?.find((l) => /^https?:/.test(l.url))?.url ?? null,
        author: commitAuthor(info),
        authorEmail: info.author?.email ?? null,
      },
      facts,
    );
  }
  const landedWith = changes.slice(0, -1).map((c) => ({
    id: gerritChangeId(deps.client.host, project, c._number),
    number: c._number,
    title: c.subject,
    url: deps.client.changeUrl(project, c._number),
    author: accountName(c.owner),
  }));
  return changeInput(
    {
      id: gerritChangeId(deps.client.host, project, last._number),
      sha: commit.sha,
      parent: commit.parent,
      number: last._number,
      title: last.subject,
      url: deps.client.changeUrl(project, last._number),
      author: accountName(last.owner),
      authorEmail: last.owner?.email ?? null,
      ...(changes.some((c) => c.hashtags?.includes(PRIORITY_MARK)) ? { priority: true } : {}),
      ...(landedWith.length ? { landedWith } : {}),
    },
    // a merge commit's message is Gerrit's own: the footers are read from the change's commit
    changes.length > 1 || info.parents.length > 1 ? { ...facts, text: changeMessage(last) ?? info.message } : facts,
  );
}

/** A `Depends-On:` value as a change id: a Change-Id is looked up (in this project first). */
async function resolveDependency(deps: LandedChangeDeps, value: string, project: string): Promise<string> {
  if (/^I[0-9a-f]{40}$/.test(value)) {
    try {
      const found = await deps.client.byChangeId(value);
      const pick = found.find((c) => c.project === project) ?? found[0];
      if (pick) return gerritChangeId(deps.client.host, pick.project, pick._number);
    } catch (err) {
      deps.log.warn({ changeId: value, err: (err as Error).message }, 'could not resolve a Depends-On Change-Id');
    }
    return value;
  }
  return dependencyId(value, project);
}

/** `gerrit:<host>/<project>@<sha>`: a commit pushed past review. */
export function pushChangeId(host: string, project: string, sha: string): string {
  return `gerrit:${host}/${project}@${sha}`;
}

function commitAuthor(info: GerritCommitInfo): string | null {
  const a = info.author;
  if (!a) return null;
  return a.name && a.email ? `${a.name} <${a.email}>` : (a.email ?? a.name ?? null);
}

/** The commit message of a change's current revision (CURRENT_COMMIT), when the answer has it. */
function changeMessage(c: GerritChangeInfo): string | null {
  const rev = c.current_revision ? c.revisions?.[c.current_revision] : undefined;
  return rev?.commit?.message ?? null;
}
