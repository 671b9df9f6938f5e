// Turns a host's merged commit (or pull request) into the core's ChangeInput, the same way for every
// host: `Depends-On:` footers resolved to change ids, what it reverts, and the `paths_ignore` skip.
import picomatch from 'picomatch';
import type { ChangeInput } from '../../core/index.ts';
import { httpUrl } from '../../http/url.ts';
import { dependsOnFooters } from './footers.ts';

export interface CommitFacts {
  /** The commit message (and, on GitHub, the PR body): where the footers are read. */
  text: string;
  /** Turns one `Depends-On:` value into a change id (a URL, `owner/repo#N`, a Change-Id...). */
  dependencyId: (value: string) => string | Promise<string>;
  /** What the change reverts, as shas and change ids (each host reads its own revert messages). */
  reverts: string[];
  /** The files the change touches, when known; null skips the `paths_ignore` check. */
  files: string[] | null;
  pathsIgnore: string[];
}

/** Why a change touching `files` is skipped under `paths_ignore`, or null when it is tested. */
export function pathsIgnoredReason(files: string[], pathsIgnore: string[]): string | null {
  if (pathsIgnore.length === 0 || files.length === 0) return null;
  const ignored = picomatch(pathsIgnore, { dot: true });
  return files.every((f) => ignored(f)) ? `only files matching paths_ignore changed (${files.length})` : null;
}

/** `base` with its dependencies, reverts and skip reason filled in from `facts`. */
export async function changeInput(base: ChangeInput, facts: CommitFacts): Promise<ChangeInput> {
  const dependsOn = await Promise.all(dependsOnFooters(facts.text).map((d) => facts.dependencyId(d)));
  const skipReason = facts.files ? pathsIgnoredReason(facts.files, facts.pathsIgnore) : null;
  return {
    ...base,
    // a link from a payload goes on pages and into the API: http(s) only
    ...(base.url !== undefined ? { url: httpUrl(base.url) } : {}),
    ...(dependsOn.length ? { dependsOn } : {}),
    ...(facts.reverts.length ? { reverts: facts.reverts } : {}),
    ...(skipReason ? { skipReason } : {}),
  };
}
