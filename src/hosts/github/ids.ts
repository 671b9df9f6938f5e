// Change ids of GitHub changes, and references to them in Depends-On footers and revert messages.
import { revertedShas } from '../common/footers.ts';

/** `github:owner/repo#123`: a merged pull request. */
export function prChangeId(repo: string, number: number): string {
  return `github:${repo}#${number}`;
}

/** `github:owner/repo@<sha>`: a direct push with no pull request. */
export function pushChangeId(repo: string, sha: string): string {
  return `github:${repo}@${sha}`;
}

/**
 * Turns a Depends-On value into a change id: a PR URL, `owner/repo#N`, `#N` (this repo), a Gerrit
 * change URL (`gerrit:<host>/<project>~<n>`), or anything else as given (a Change-Id, resolved later).
 */
export function dependencyId(value: string, repo: string): string {
  const pr = /^https?:\/\/[^/]+\/([^/]+\/[^/]+)\/pull\/(\d+)/.exec(value);
  if (pr) return prChangeId(pr[1]!, Number(pr[2]));
  const short = /^([\w.-]+\/[\w.-]+)?#(\d+)$/.exec(value);
  if (short) return prChangeId(short[1] ?? repo, Number(short[2]));
  const gerrit = /^https?:\/\/([^/]+)\/(?:c\/)?(.+?)\/\+\/(\d+)/.exec(value);
  if (gerrit) return `gerrit:${gerrit[1]}/${gerrit[2]}~${gerrit[3]}`;
  return value;
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
