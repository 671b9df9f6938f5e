// What one move of a Gerrit branch landed, read from the REST API: the first-parent commits from the
// old tip to the new one, oldest first, each with the reviewed changes it carries.
// - Every submit type puts a commit per change on the first-parent line, except a merge: fast
//   forward, rebase (if necessary, always) and cherry-pick land each change's current patch set
//   (rebase and cherry-pick make a new one at submit); merge (if necessary, always) lands a merge
//   commit whose second parent is the top of a stack, and the whole stack lands in it at once.
// - change-merged events cannot say this themselves: every change of one submission carries the same
//   `newRev`, the branch tip after the whole submission.
// - A first-parent commit no change carries was pushed past review (or is the merge of another
//   branch): it lands as a change of its own, a direct push.
import type { Logger } from '../../log.ts';
import type { GerritClient } from './client.ts';
import { branchOf } from './events.ts';
import type { GerritChangeInfo, GerritCommitInfo } from './types.ts';

/** One commit of the branch's first-parent line, with the reviewed changes it carries. */
export interface LandedCommit {
  sha: string;
  /** Its first parent: the branch just before it. */
  parent: string | null;
  info: GerritCommitInfo;
  /** Oldest first: one change for its own commit, a stack for a merge commit, none for a direct push. */
  changes: GerritChangeInfo[];
}

export interface Landing {
  /** Oldest first. */
  commits: LandedCommit[];
  /** The commit before the oldest one read: the old tip, or where the walk stopped. */
  base: string | null;
  /** The walk reached its bound before the old tip: the commits before `base` were not read. */
  cut: boolean;
  /** The old tip is no longer on the branch: its history was rewritten (a force-push). */
  rewritten: boolean;
}

export interface LandingQuery {
  project: string;
  branch: string;
  /** The branch's new tip. */
  to: string;
  /** The branch's old tip, when known (ref-updated's `oldRev`, or the last sha the queue has). */
  from: string | null;
  /** Without `from`: the change of a change-merged event; the walk reads its submission's commits only. */
  submission?: GerritChangeInfo | undefined;
  /** How many first-parent commits are read at most. */
  limit: number;
}

/** The all-zero sha that ref-updated gives for a branch created (`oldRev`) or deleted (`newRev`). */
export function isNullSha(sha: string | null | undefined): boolean {
  return !!sha && /^0+$/.test(sha);
}

const CHANGE_ID = /^Change-Id:\s*(I[0-9a-f]{40})\s*$/im;

/** Whether two merged changes were submitted together (one submission). */
export function sameSubmission(a: GerritChangeInfo, b: GerritChangeInfo): boolean {
  if (a.submission_id && b.submission_id) return a.submission_id === b.submission_id;
  // before Gerrit 3.2: one submission stamps all its changes with the same time
  return a.status === 'MERGED' && b.status === 'MERGED' && !!a.submitted && a.submitted === b.submitted;
}

export class LandingReader {
  constructor(
    private readonly client: GerritClient,
    private readonly log: Logger,
  ) {}

  /** Reads the first-parent commits from `to` back to `from` (or to the start of `submission`), bounded by `limit`. */
  async read(q: LandingQuery): Promise<Landing> {
    const commits: LandedCommit[] = [];
    let sha: string | null = q.to;
    while (sha !== null && sha !== q.from && commits.length < q.limit) {
      const { info, changes } = await this.landedAt(q, sha);
      if (q.from === null && q.submission && !changes.some((c) => sameSubmission(c, q.submission!))) break;
      const parent = info.parents[0]?.commit ?? null;
      commits.push({ sha, parent, info, changes });
      sha = parent;
    }
    commits.reverse();
    const reachedFrom = q.from !== null && sha === q.from;
    const cut = !reachedFrom && sha !== null && commits.length >= q.limit;
    let rewritten = false;
    if (q.from !== null && !reachedFrom) rewritten = sha === null || !(await this.onBranch(q, q.from));
    return { commits, base: sha, cut, rewritten };
  }

  /** Whether `sha` is still in the branch's history. */
  private async onBranch(q: LandingQuery, sha: string): Promise<boolean> {
    try {
      const found = await this.client.includedIn(q.project, sha);
      return (found.branches ?? []).some((b) => branchOf(b) === q.branch);
    } catch (err) {
      this.log.warn(
        { project: q.project, sha, err: (err as Error).message },
        'could not tell whether a push rewrote history',
      );
      return true;
    }
  }

  /**
   * The commit at `sha` and the changes it carries. The change whose current patch set it is answers
   * both in one call (its CURRENT_COMMIT); a merge, or a commit no change has as its current patch
   * set, is read from the project's commits.
   */
  private async landedAt(
    q: LandingQuery,
    sha: string,
  ): Promise<{ info: GerritCommitInfo; changes: GerritChangeInfo[] }> {
    const own = await this.changeWithCommit(q, sha);
    const commit = own?.current_revision === sha ? own.revisions?.[sha]?.commit : undefined;
    if (own && commit?.parents?.length === 1 && commit.message !== undefined) {
      const { message, parents } = commit;
      const info = { ...commit, commit: sha, parents, message, subject: commit.subject ?? message.split('\n')[0]! };
      return { info, changes: [own] };
    }
    const info = await this.client.commit(q.project, sha);
    return { info, changes: await this.changesOf(q, info, own) };
  }

  /** The changes of this project and branch that a commit on the first-parent line carries (`own`: the change that has it). */
  private async changesOf(
    q: LandingQuery,
    info: GerritCommitInfo,
    own: GerritChangeInfo | null,
  ): Promise<GerritChangeInfo[]> {
    if (info.parents.length > 1) {
      // a merge: the stack whose top is its second parent (another branch merged in: none)
      const top = await this.changeWithCommit(q, info.parents[1]!.commit);
      return top ? this.stackUnder(q, top) : [];
    }
    if (own) return [own];
    // a commit Gerrit has not indexed yet under its patch set, or pushed with the Change-Id of a change
    // it then closes: the change is found by its Change-Id
    const changeId = CHANGE_ID.exec(info.message)?.[1];
    if (!changeId) return [];
    const found = (await this.client.byChangeId(changeId)).filter(
      (c) => this.ofBranch(q, c) && (c.status === 'MERGED' || c.status === 'NEW'),
    );
    return found.slice(0, 1);
  }

  private ofBranch(q: LandingQuery, c: GerritChangeInfo): boolean {
    return c.project === q.project && branchOf(c.branch) === q.branch;
  }

  private async changeWithCommit(q: LandingQuery, sha: string): Promise<GerritChangeInfo | null> {
    const found = (await this.client.byCommit(sha)).filter((c) => this.ofBranch(q, c));
    return found.find((c) => c.status === 'MERGED') ?? found[0] ?? null;
  }

  /** `top` and the changes under it that merged in the same submission, oldest first. */
  private async stackUnder(q: LandingQuery, top: GerritChangeInfo): Promise<GerritChangeInfo[]> {
    const stack = [top];
    for (let i = 0; i < q.limit; i++) {
      const below = parentOf(stack[0]!);
      if (!below) break;
      const change = await this.changeWithCommit(q, below);
      if (!change || !sameSubmission(change, top) || stack.some((c) => c._number === change._number)) break;
      stack.unshift(change);
    }
    return stack;
  }
}

/** The first parent of a change's current revision, from the CURRENT_COMMIT option. */
function parentOf(c: GerritChangeInfo): string | null {
  const rev = c.current_revision ? c.revisions?.[c.current_revision] : undefined;
  return rev?.commit?.parents?.[0]?.commit ?? null;
}
