// Footers every host reads from a commit message or PR body: `Depends-On:` (and the change ids its
// values name, on any host) and git revert's line.

/** The values of every `Depends-On:` line, in order, without duplicates. */
export function dependsOnFooters(message: string): string[] {
  const out: string[] = [];
  for (const line of message.split(/\r?\n/)) {
    const m = /^\s*depends-on\s*:\s*(\S+)\s*$/i.exec(line);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** Shas named by `This reverts commit <sha>` lines (git revert's message). */
export function revertedShas(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/This reverts commit ([0-9a-f]{7,40})/gi)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}

/**
 * Turns a Depends-On value into a change id: a PR URL, `owner/repo#N`, `#N` (this repo), a Gerrit
 * change URL (`gerrit:<host>/<project>~<n>`), or anything else as given (a Change-Id, resolved later).
 */
export function dependencyId(value: string, repo: string): string {
  const pr = /^https?:\/\/[^/]+\/([^/]+\/[^/]+)\/pull\/(\d+)/.exec(value);
  if (pr) return `github:${pr[1]}#${pr[2]}`;
  const short = /^([\w.-]+\/[\w.-]+)?#(\d+)$/.exec(value);
  if (short) return `github:${short[1] ?? repo}#${short[2]}`;
  const gerrit = /^https?:\/\/([^/]+)\/(?:c\/)?(.+?)\/\+\/(\d+)/.exec(value);
  if (gerrit) return `gerrit:${gerrit[1]}/${gerrit[2]}~${gerrit[3]}`;
  return value;
}
