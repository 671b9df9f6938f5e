// Performs a mail effect: renders it from the queue as it is now (message.ts) and sends it
// (smtp.ts). Sent: logged. Refused for good (a 5xx): logged, and a notice on the queue's page says
// to whom and why; it is not tried again. Anything else throws, and the outbox tries again later.
// Delivery is at least once: a crash after the server took the mail and before the outbox marked
// it sends it again, with the same Message-ID.
import type { MailEffect } from '../core/index.ts';
import type { DispatchContext } from '../engine/effects.ts';
import type { Logger } from '../log.ts';
import { defaultLabel, type ChangeLabeler } from '../report/model.ts';
import { mailMessage } from './message.ts';
import { senderDomain, type SmtpMailer } from './smtp.ts';

export interface MailDeliveryOptions {
  mailer: Pick<SmtpMailer, 'send' | 'label' | 'from'>;
  log: Logger;
  /** How each host labels a change; by host. */
  labels?: Record<string, ChangeLabeler>;
  publicUrl?: string | undefined;
}

export class MailDelivery {
  constructor(private readonly opts: MailDeliveryOptions) {}

  async deliver(effect: MailEffect, key: string, ctx: DispatchContext): Promise<void> {
    const { mailer, log, labels, publicUrl } = this.opts;
    const labelOf: ChangeLabeler = (c) => labels?.[c.host]?.(c) ?? defaultLabel(c);
    const message = mailMessage(effect, key, {
      queue: ctx.queue,
      file: ctx.file,
      labelOf,
      publicUrl,
      domain: senderDomain(mailer.from),
    });
    const to = effect.to.join(', ');
    const result = await mailer.send(effect.to, message);
    if (result.sent) {
      log.info({ queue: ctx.queue, to, subject: message.subject, messageId: message.messageId }, `mail sent to ${to}`);
      return;
    }
    const text = `mail to ${to} refused for good by ${mailer.label}: ${result.permanent} (subject: ${message.subject})`;
    log.error({ queue: ctx.queue, to, key }, text);
    await ctx.notice?.({ at: ctx.now(), level: 'error', code: 'mail-failed', message: text });
  }
}
