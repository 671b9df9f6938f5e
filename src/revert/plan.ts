// Which confirmed culprits a step reverts, decided when the step is journaled (like mails, so that a
// crash loses none and a replay decides the same): each culprit verdict of the step, when the repo
// config's `revert.auto` is on. The guards the queue can judge by itself stop a revert here, with the
// reason to post on the culprit: its confidence, its age, the daily limit, merged changes that depend
// on it. A revert already in the queue means nothing is to be done. The guards only the code host can
// judge (the author's opt-out, an existing revert, a permission) are the host's (hosts/*/revert.ts).
import type { ChangeRecord, Effect, RevertEffect, VerdictRecord } from '../core/index.ts';
import { dayOf, withOpened } from '../engine/health.ts';
import type { QueueFile } from '../store/types.ts';

/** The repo config's `revert:` as the plan reads it. */
export interface RevertSettings {
  auto: boolean;
  confidence: number;
  max_age: number;
  daily_limit: number;
  submit: boolean;
}

const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

/** Changes of the queue that revert `culprit` (by id or sha). */
function revertsOf(file: Pick<QueueFile, 'state'>, culprit: ChangeRecord): ChangeRecord[] {
  return Object.values(file.state.changes).filter((c) =>
    (c.reverts ?? []).some((r) => r === culprit.id || culprit.sha.startsWith(r) || r.startsWith(culprit.sha)),
  );
}

/** Why the queue's own guards stop reverting `culprit`, or null when none does. */
export function queueGuard(
  file: Pick<QueueFile, 'state' | 'reverts'>,
  verdict: VerdictRecord,
  settings: RevertSettings,
  now: number,
): string | null {
  const culprit = file.state.changes[verdict.change]!;
  const needed = Math.max(settings.confidence, file.state.settings.confidence);
  const confidence = verdict.confidence ?? 0;
  if (confidence < needed)
    return `its confidence, ${percent(confidence)}, is below the ${percent(needed)} a revert needs (revert.confidence)`;
  const age = now - (culprit.mergedAt ?? culprit.enqueuedAt);
  if (age > settings.max_age)
    return `it merged ${hours(age)} ago, longer than revert.max_age (${hours(settings.max_age)})`;
  const dependents = Object.values(file.state.changes).filter((c) => c.dependsOn?.includes(culprit.id));
  if (dependents.length)
    return `merged changes depend on it (${dependents.map((c) => c.id).join(', ')}): reverting it alone would break them`;
  const today = (file.reverts ?? []).find((d) => d.day === dayOf(now))?.count ?? 0;
  if (today >= settings.daily_limit)
    return `the queue opened ${today} revert(s) today, its revert.daily_limit of ${settings.daily_limit}`;
  return null;
}

/** The revert effects of a step of `file` with `effects`, each judged at the time of its verdict. */
export function plannedReverts(
  file: Pick<QueueFile, 'state' | 'reverts'> & { repoConfig?: { revert?: RevertSettings } | undefined },
  effects: readonly Effect[],
): RevertEffect[] {
  const settings = file.repoConfig?.revert;
  if (!settings?.auto) return [];
  const out: RevertEffect[] = [];
  let opened = 0;
  for (const e of effects) {
    if (e.type !== 'report' || e.verdict.verdict !== 'culprit' || e.verdict.retracted) continue;
    const culprit = file.state.changes[e.change];
    // a revert already in the queue is being tested: nothing to open, nothing to say
    if (!culprit || revertsOf(file, culprit).length) continue;
    const now = e.verdict.at;
    const counted = { ...file, reverts: withOpened(file.reverts ?? [], now, opened) };
    const refused = queueGuard(counted, e.verdict, settings, now);
    if (!refused) opened += 1;
    out.push({
      type: 'revert',
      change: e.change,
      ...(refused ? { refused } : {}),
      confidence: e.verdict.confidence ?? 0,
      evidence: e.verdict.evidence ?? [],
      submit: settings.submit,
    });
  }
  return out;
}
