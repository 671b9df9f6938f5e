// A mail as people read it, from the same documents as the comments (report/verdict.ts): a subject
// `[ost-gate] <queue>: <what> <short sha> <title>`, a plain-text and an HTML part, and the headers
// that thread it and mark it as a robot's. A change's thread starts with the first verdict mailed
// about it, whose Message-ID is the thread's id; every later mail about it (a blocked summary goes to
// its culprit's thread, a fix to the culprit's) has a Message-ID made from its outbox entry's key
// (the same on every retry) and refers to the thread's id in In-Reply-To and References. Paused and
// resumed queues thread under the queue. A List-Id per queue, and Auto-Submitted.
import { createHash } from 'node:crypto';
import type { MailEffect, MessageAbout } from '../core/index.ts';
import { code, joined, link, type Doc } from '../report/doc.ts';
import { toHtml } from '../report/html.ts';
import { buildVerdictReport, changePageUrl, changeRef, queuePageUrl, type ChangeLabeler } from '../report/model.ts';
import { toText } from '../report/text.ts';
import { verdictDoc } from '../report/verdict.ts';
import type { QueueView } from '../store/types.ts';

export interface MailMessage {
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

export interface MessageContext {
  queue: string;
  file: QueueView;
  labelOf: ChangeLabeler;
  publicUrl: string | undefined;
  /** The domain of the sender's address, for Message-IDs. */
  domain: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/** The id of the thread of a change (or of a queue): what every mail about it refers to. */
export function threadId(queue: string, change: string | null, domain: string): string {
  return `<${digest(change ? `change\u0000${queue}\u0000${change}` : `queue\u0000${queue}`)}.thread@${domain}>`;
}

/** The mail of an outbox entry (`key`: its idempotency key). */
export function mailMessage(effect: MailEffect, key: string, ctx: MessageContext): MailMessage {
  const { subject, doc, thread } = messageContent(effect.about, ctx);
  const root = threadId(ctx.queue, thread, ctx.domain);
  const first = effect.startsThread === true && thread !== null;
  return {
    subject,
    text: toText(doc.filter((b) => !('marker' in b))),
    html: toHtml(doc),
    messageId: first ? root : `<${digest(key)}@${ctx.domain}>`,
    headers: {
      ...(first ? {} : { 'In-Reply-To': root, References: root }),
      'Auto-Submitted': 'auto-generated',
      'List-Id': `ost-gate queue ${ctx.queue.replace(/[<>"\r\n]/g, '')} <${digest(ctx.queue)}.ost-gate.${ctx.domain}>`,
    },
  };
}

/** One line: no line breaks, at most `max` characters. */
const oneLine = (text: string, max = 120) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** A message's subject line, its document, and the change whose thread it belongs to (null: the queue's). */
export function messageContent(
  about: MessageAbout,
  ctx: Omit<MessageContext, 'domain'>,
): { subject: string; doc: Doc; thread: string | null } {
  const { queue, file, labelOf, publicUrl } = ctx;
  const shortRef = (id: string) => {
    const c = Object.hasOwn(file.state.changes, id) ? file.state.changes[id] : undefined;
    return c ? `${c.sha.slice(0, 10)} ${c.title ?? ''}` : id;
  };
  switch (about.kind) {
    case 'verdict': {
      const report = buildVerdictReport(queue, file, about.verdict, { labelOf, publicUrl });
      const provisional = about.verdict.provisional ? ' (provisional)' : '';
      const subject = `[ost-gate] ${queue}: ${about.verdict.verdict}${provisional} ${shortRef(about.change)}`;
      // a comment sits on its change; a mail says which change it is about
      const doc = verdictDoc(report);
      doc.splice(1, 0, { para: ['Change ', { change: report.change }, '.'] });
      // a fix belongs to the thread of the culprit it fixed
      const thread = about.verdict.verdict === 'fixed' && about.verdict.culprit ? about.verdict.culprit : about.change;
      return { subject: oneLine(subject, 200), doc, thread };
    }
    case 'blocked': {
      const culprit = about.culprit ? changeRef(file, about.culprit, labelOf) : null;
      const blocked = about.changes.map((id) => ({ change: changeRef(file, id, labelOf) }));
      const n = about.changes.length;
      const doc: Doc = [
        { heading: `ost-gate: ${n} change${n === 1 ? '' : 's'} blocked` },
        { para: ['Queue ', code(queue), '.'] },
        {
          para: [
            ...joined(blocked),
            n === 1 ? ' is' : ' are',
            ' blocked by ',
            culprit ? { change: culprit } : 'an unfixed culprit',
            ', which breaks the system tests. They are tested again once it is fixed or reverted.',
          ],
        },
      ];
      if (publicUrl && about.culprit)
        doc.push({ para: [link('The culprit on the dashboard', changePageUrl(publicUrl, about.culprit))] });
      const subject = `[ost-gate] ${queue}: blocked ${n} change${n === 1 ? '' : 's'} by ${about.culprit ? shortRef(about.culprit) : 'an unfixed culprit'}`;
      return { subject: oneLine(subject, 200), doc, thread: about.culprit };
    }
    case 'queue': {
      const what = { 'queue-paused': 'queue paused', 'queue-resumed': 'queue resumed', 'infra-retry': 'infra error' }[
        about.code
      ];
      const doc: Doc = [{ heading: `ost-gate: ${what ?? about.code}` }, { para: [about.message] }];
      if (publicUrl)
        doc.push({
          para: [link('The queue on the dashboard', queuePageUrl(publicUrl, queue))],
        });
      return { subject: oneLine(`[ost-gate] ${queue}: ${what ?? about.code}`, 200), doc, thread: null };
    }
  }
}
