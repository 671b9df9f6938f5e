// Whether a branch update changed a file (the repo config): told by the files of each landed
// commit, as the change queries of the landing already have them (CURRENT_FILES), and asked of
// Gerrit only for a commit no change's current patch set is (a push past review, a merge of another
// branch, a commit found by its Change-Id). When Gerrit cannot say, the answer is yes: reading a
// config again costs one request, missing a change of it would keep a stale one in force.
import type { Logger } from '../../log.ts';
import type { GerritClient } from './client.ts';
import type { Landing, LandedCommit } from './landing.ts';
import type { GerritChangeInfo } from './types.ts';

/** The files of a change's current patch set when that patch set is `sha` (null: not known from the change). */
function filesOf(change: GerritChangeInfo, sha: string): string[] | null {
  if (change.current_revision !== sha) return null;
  const files = change.revisions?.[sha]?.files;
  return files ? Object.keys(files) : null;
}

/** The files of one landed commit, from its change or from Gerrit. */
async function commitFiles(client: GerritClient, project: string, commit: LandedCommit): Promise<string[]> {
  if (commit.info.parents.length > 1 && commit.changes.length > 0) {
    // a stack merged in one commit: what its changes touch
    const all = commit.changes.map((c) => (c.current_revision ? filesOf(c, c.current_revision) : null));
    if (all.every((f) => f !== null)) return all.flat();
  } else if (commit.changes.length === 1) {
    const own = filesOf(commit.changes[0]!, commit.sha);
    if (own) return own;
  }
  return client.commitFiles(project, commit.sha);
}

/** Whether any commit of `landing` touches `file` (yes when a history rewrite or a cut push hides some). */
export async function landingTouches(
  deps: { client: GerritClient; log: Logger },
  project: string,
  landing: Landing,
  file: string,
): Promise<boolean> {
  if (landing.rewritten || landing.cut) return true;
  try {
    for (const commit of landing.commits)
      if ((await commitFiles(deps.client, project, commit)).includes(file)) return true;
    return false;
  } catch (err) {
    deps.log.warn(
      { project, err: (err as Error).message },
      `could not tell whether an update of ${project} changed ${file}; reading it again`,
    );
    return true;
  }
}
