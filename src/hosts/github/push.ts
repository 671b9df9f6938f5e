// Turns a `push` webhook into the changes it merged, in history order: each merged PR is one change
// (its last commit is the change's sha); a commit with no PR is a direct push of its own.
import type { ChangeInput } from '../../core/index.ts';
import { changeInput } from '../common/change-input.ts';
import { dependencyId, prChangeId, pushChangeId, revertsOf } from './ids.ts';
import { PRIORITY_LABEL } from '../common/priority.ts';

export interface PushCommit {
  id: string;
  message: string;
  timestamp: string;
  url: string;
  author: { name?: string; email?: string | null; username?: string | null };
  added?: string[];
  removed?: string[];
  modified?: string[];
}

export interface PullInfo {
  number: number;
  title: string;
  html_url: string;
  body: string | null;
  user: { login: string } | null;
  labels?: { name?: string }[];
}

/** Finds the merged PR a commit belongs to (from the PR cache, the message or the API), or null. */
export type FindPull = (sha: string, message: string) => Promise<PullInfo | null>;

export async function changesFromPush(
  repo: string,
  before: string,
  commits: PushCommit[],
  findPull: FindPull,
  pathsIgnore: string[],
): Promise<ChangeInput[]> {
  const groups: { pull: PullInfo | null; commits: PushCommit[] }[] = [];
  for (const c of commits) {
    const pull = await findPull(c.id, c.message);
    const last = groups.at(-1);
    if (pull && last?.pull?.number === pull.number) last.commits.push(c);
    else groups.push({ pull, commits: [c] });
  }
  let parent = before;
  const changes: ChangeInput[] = [];
  for (const { pull, commits: cs } of groups) {
    const head = cs.at(-1)!;
    const text = pull ? `${pull.body ?? ''}\n${cs.map((c) => c.message).join('\n')}` : head.message;
    const base: ChangeInput = {
      id: pull ? prChangeId(repo, pull.number) : pushChangeId(repo, head.id),
      sha: head.id,
      parent,
      number: pull?.number ?? null,
      title: pull?.title ?? head.message.split('\n')[0]!,
      url: pull?.html_url ?? head.url,
      author: pull?.user?.login ?? head.author.username ?? head.author.name ?? null,
      authorEmail: head.author.email ?? null,
      mergedAt: Date.parse(head.timestamp) || null,
      ...(pull?.labels?.some((l) => l.name === PRIORITY_LABEL) ? { priority: true } : {}),
    };
    changes.push(
      await changeInput(base, {
        text,
        dependencyId: (d) => dependencyId(d, repo),
        reverts: revertsOf(text, repo),
        files: cs.flatMap((c) => [...(c.added ?? []), ...(c.removed ?? []), ...(c.modified ?? [])]),
        pathsIgnore,
      }),
    );
    parent = head.id;
  }
  return changes;
}
