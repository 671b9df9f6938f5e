// Change ids of GitHub changes, and references to them in Depends-On footers and revert messages.
import { revertedShas } from '../common/footers.ts';

export { dependencyId } from '../common/footers.ts';

/** `github:owner/repo#123`: a merged pull request. */
export function prChangeId(repo: string, number: number): string {
  return `github:${repo}#${number}`;
}

/** `github:owner/repo@<sha>`: a direct push with no pull request. */
export function pushChangeId(repo: string, sha: string): string {
  return `github:${repo}@${sha}`;
}

/** The PR number a merge or squash commit message names: "Merge pull request #12 from ..." or "Title (#12)". */
export function prNumberFromMessage(message: string): number | null {
  const first = message.split('\n')[0] ?? '';
  const merge = /^Merge pull request #(\d+) from /.exec(first);
  if (merge) return Number(merge[1]);
  const squash = /\(#(\d+)\)\s*$/.exec(first);
  return squash ? Number(squash[1]) : null;
}

/** What a change reverts: "This reverts commit <sha>" (git) and "Reverts owner/repo#N" (GitHub's revert button). */
export function revertsOf(text: string, repo: string): string[] {
  const out: string[] = [];
  for (const sha of revertedShas(text)) out.push(sha, pushChangeId(repo, sha));
  for (const m of text.matchAll(/^Reverts ([\w.-]+\/[\w.-]+)?#(\d+)/gim))
    out.push(prChangeId(m[1] ?? repo, Number(m[2])));
  return [...new Set(out)];
}

/** How GitHub people name a change: `#12` for a pull request, a short sha for a direct push. */
export function githubChangeLabel(c: { number?: number | null | undefined; sha: string }): string {
  return c.number ? `#${c.number}` : c.sha.slice(0, 10);
}
