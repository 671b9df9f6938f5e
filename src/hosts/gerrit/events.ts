// Normalises Gerrit stream events (from the webhooks plugin or `gerrit stream-events`), old and new styles.
import type { GerritEvent } from './types.ts';

export function changeNumber(n: number | string | undefined): number | null {
  const v = typeof n === 'string' ? Number.parseInt(n, 10) : n;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

/** `refs/heads/master` or a bare `master` (old Gerrit) -> `master`; null for other refs. */
export function branchOf(refName: string | undefined): string | null {
  if (!refName) return null;
  if (refName.startsWith('refs/heads/')) return refName.slice('refs/heads/'.length);
  if (refName.startsWith('refs/')) return null;
  return refName;
}

/** `gerrit:<host>/<project>~<number>`. */
export function gerritChangeId(host: string, project: string, number: number): string {
  return `gerrit:${host}/${project}~${number}`;
}

/** The command lines of a review message: Gerrit prefixes it with "Patch Set N:" and any votes. */
export function commentBody(comment: string | undefined): string {
  if (!comment) return '';
  return comment.replace(/^Patch Set \d+:[^\n]*\n?/, '');
}

export function parseEvent(input: unknown): GerritEvent | null {
  if (!input || typeof input !== 'object' || typeof (input as { type?: unknown }).type !== 'string') return null;
  return input as GerritEvent;
}

/** How Gerrit people name a change: `change 12`. */
export function gerritChangeLabel(c: { number?: number | null | undefined; sha: string }): string {
  return c.number ? `change ${c.number}` : c.sha.slice(0, 10);
}
