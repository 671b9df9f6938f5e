// Normalises Gerrit stream events (from the webhooks plugin or `gerrit stream-events`), old and new styles.
import { createHash } from 'node:crypto';
import { z } from 'zod';
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

const text = (max: number) => z.string().max(max);
/** A Gerrit project name that is safe in a REST path: no `.` or `..` segment, no leading slash. */
const project = text(255)
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').some((s) => s === '.' || s === '..' || s === ''), {
    message: 'not a project name (no empty, . or .. part)',
  });
const sha = text(100).regex(/^[\w.-]+$/, 'a commit sha');
const account = z
  .looseObject({ name: text(200).optional(), email: text(300).optional(), username: text(200).optional() })
  .optional();
const number = z.union([z.number().int().positive(), text(20).regex(/^\d+$/)]);

/** The fields of stream events ost-gate reads, with sane sizes; anything else passes as Gerrit sent it. */
const eventSchema = z.looseObject({
  type: text(100).min(1),
  change: z
    .looseObject({
      project,
      branch: text(255),
      number,
      subject: text(2000).optional(),
      owner: account,
      url: text(2000).optional(),
      commitMessage: text(100_000).optional(),
    })
    .optional(),
  patchSet: z
    .looseObject({ number: number.optional(), revision: sha.optional(), parents: z.array(sha).max(16).optional() })
    .optional(),
  newRev: sha.optional(),
  refUpdate: z
    .looseObject({
      oldRev: sha.optional(),
      newRev: sha.optional(),
      refName: text(1000).optional(),
      project: project.optional(),
    })
    .optional(),
  author: account,
  comment: text(100_000).optional(),
});

/** A stream event, or why it is not one ost-gate can act on. */
export function checkEvent(input: unknown): { event: GerritEvent } | { problem: string } {
  const parsed = eventSchema.safeParse(input);
  if (parsed.success) return { event: parsed.data as GerritEvent };
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  return { problem: problems.join('; ') };
}

/** A stream event, or null when it is not one (see checkEvent for why). */
export function parseEvent(input: unknown): GerritEvent | null {
  const checked = checkEvent(input);
  return 'event' in checked ? checked.event : null;
}

/** How Gerrit people name a change: `change 12`. */
export function gerritChangeLabel(c: { number?: number | null | undefined; sha: string }): string {
  return c.number ? `change ${c.number}` : c.sha.slice(0, 10);
}

/**
 * What makes one Gerrit event the same event when it is delivered again: its type, change (or ref),
 * patch set, creation time and account, and for a comment its text. A hash, safe as a file name.
 */
export function eventIdentity(e: GerritEvent): string {
  const account = e.author ?? e.submitter;
  const parts = [
    e.type,
    e.change
      ? `${e.change.project}~${changeNumber(e.change.number)}`
      : `${e.refUpdate?.project}:${branchOf(e.refUpdate?.refName)}`,
    e.patchSet?.number ?? e.refUpdate?.newRev ?? e.newRev ?? '',
    e.eventCreatedOn ?? '',
    account ? (account.username ?? account.email ?? account.name ?? account._account_id ?? '') : '',
    e.comment ?? '',
  ].map(String);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}
