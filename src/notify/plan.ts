// Which mails a step sends, decided when the step is journaled so that they go through the outbox
// like every other effect (durable, retried, never lost by a crash): each verdict of `report.notify`
// to `report.email.to`, the changes one culprit blocked in one step as a single mail, a culprit's
// own verdict to its author (`report.email.author`), and paused and resumed queues and infra errors.
import type { Effect, MailEffect, VerdictRecord } from '../core/index.ts';
import type { QueueFile } from '../store/types.ts';
import { reportEmailOf } from './config.ts';

/** The notices of a step that are mailed: the queue paused, resumed, or an infra error retried. */
export const MAILED_NOTICES = ['queue-paused', 'queue-resumed', 'infra-retry'];

/** The address in a change's author (`Name <a@b.org>`, or a bare address); null when it has none. */
export function authorAddress(author: string | null | undefined): string | null {
  const found = /<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>\s*$/.exec(author ?? '')?.[1] ?? author?.trim();
  return found && /^[^<>\s@]+@[^<>\s@]+\.[^<>\s@]+$/.test(found) ? found : null;
}

/** The mails a step of `file` sends with `effects`, under the queue's report settings. */
export function plannedMails(file: Pick<QueueFile, 'repoConfig' | 'state'>, effects: readonly Effect[]): MailEffect[] {
  const report = file.repoConfig?.report;
  if (!report) return [];
  const { to, author } = reportEmailOf(report);
  if (to.length === 0 && !author) return [];
  const notify = report.notify as string[];
  const mails: MailEffect[] = [];
  const blocked = new Map<string | null, VerdictRecord[]>();
  for (const e of effects) {
    if (e.type === 'notice' && MAILED_NOTICES.includes(e.code) && to.length)
      mails.push({ type: 'mail', to, about: { kind: 'queue', code: e.code, level: e.level, message: e.message } });
    if (e.type !== 'report' || !notify.includes(e.verdict.verdict)) continue;
    const v = e.verdict;
    if (v.verdict === 'blocked') {
      blocked.set(v.culprit ?? null, [...(blocked.get(v.culprit ?? null) ?? []), v]);
      continue;
    }
    if (to.length) mails.push({ type: 'mail', to, about: { kind: 'verdict', change: e.change, verdict: v } });
    const record = file.state.changes[e.change];
    const address = author && v.verdict === 'culprit' ? authorAddress(record?.authorEmail ?? record?.author) : null;
    if (address && !to.includes(address))
      mails.push({ type: 'mail', to: [address], about: { kind: 'verdict', change: e.change, verdict: v } });
  }
  if (to.length)
    for (const [culprit, verdicts] of blocked)
      mails.push({
        type: 'mail',
        to,
        about: { kind: 'blocked', culprit, changes: verdicts.map((v) => v.change), verdicts },
      });
  return mails;
}
