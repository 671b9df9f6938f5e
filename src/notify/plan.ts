// Which mails and chat messages a step sends, decided when the step is journaled so that they go
// through the outbox like every other effect (durable, retried, never lost by a crash): each verdict
// of `report.notify`, the changes one culprit blocked in one step as a single message, and paused and
// resumed queues and infra errors, to `report.email.to` and each of `report.channels`; and a culprit's
// own verdict to its author (`report.email.author`).
import addressparser from 'nodemailer/lib/addressparser/index.js';
import type { ChatEffect, Effect, MailEffect, MessageAbout, VerdictRecord } from '../core/index.ts';
import type { QueueFile } from '../store/types.ts';
import { reportChannelsOf, reportEmailOf } from './config.ts';

/** The notices of a step that are told: the queue paused, resumed, or an infra error retried. */
export const TOLD_NOTICES = ['queue-paused', 'queue-resumed', 'infra-retry'];

/** The address in a change's author (`Name <a@b.org>`, or a bare address; nodemailer's parser); null without one. */
export function authorAddress(author: string | null | undefined): string | null {
  const address = author ? addressparser(author, { flatten: true })[0]?.address : undefined;
  return address && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address) ? address : null;
}

/** What a step tells the list and the channels, in the order it happened; blocked changes summed per culprit. */
function toldOfStep(notify: string[], effects: readonly Effect[]): MessageAbout[] {
  const told: MessageAbout[] = [];
  const blocked = new Map<string | null, VerdictRecord[]>();
  for (const e of effects) {
    if (e.type === 'notice' && TOLD_NOTICES.includes(e.code))
      told.push({ kind: 'queue', code: e.code, level: e.level, message: e.message });
    if (e.type !== 'report' || !notify.includes(e.verdict.verdict)) continue;
    const v = e.verdict;
    if (v.verdict === 'blocked') blocked.set(v.culprit ?? null, [...(blocked.get(v.culprit ?? null) ?? []), v]);
    else told.push({ kind: 'verdict', change: e.change, verdict: v });
  }
  for (const [culprit, verdicts] of blocked)
    told.push({ kind: 'blocked', culprit, changes: verdicts.map((v) => v.change), verdicts });
  return told;
}

/** The mails and chat messages a step of `file` sends with `effects`, under the queue's report settings. */
export function plannedMessages(
  file: Pick<QueueFile, 'repoConfig' | 'state' | 'sent'>,
  effects: readonly Effect[],
): (MailEffect | ChatEffect)[] {
  const report = file.repoConfig?.report;
  if (!report) return [];
  const { to, author } = reportEmailOf(report);
  const channels = reportChannelsOf(report);
  if (to.length === 0 && !author && channels.length === 0) return [];
  const out: (MailEffect | ChatEffect)[] = [];
  const mailed = new Set((file.sent ?? []).filter((m) => m.via === 'mail').flatMap((m) => m.changes));
  for (const about of toldOfStep(report.notify as string[], effects)) {
    // the first verdict mailed about a change starts its thread; every other mail answers in one
    const startsThread = about.kind === 'verdict' && about.verdict.verdict !== 'fixed' && !mailed.has(about.change);
    if (about.kind === 'verdict') mailed.add(about.change);
    if (about.kind === 'blocked') for (const c of [...about.changes, about.culprit ?? '']) mailed.add(c);
    const mail = (recipients: string[]): MailEffect => ({
      type: 'mail',
      to: recipients,
      about,
      ...(startsThread ? { startsThread } : {}),
    });
    if (to.length) out.push(mail(to));
    for (const channel of channels) out.push({ type: 'chat', channel, about });
    if (!author || about.kind !== 'verdict' || about.verdict.verdict !== 'culprit') continue;
    const record = file.state.changes[about.change];
    const address = authorAddress(record?.authorEmail ?? record?.author);
    if (address && !to.includes(address)) out.push(mail([address]));
  }
  return out;
}
