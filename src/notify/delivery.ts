// Performs a mail or chat effect: renders it from the queue as it is now (message.ts) and sends it
// (smtp.ts, chat.ts). Sent: logged. Refused for good (an SMTP 5xx, an HTTP 4xx but 429, a channel
// this server does not have): logged, and a notice on the queue's page says where and why; it is not
// tried again. Anything else throws, and the outbox tries again later (after the wait a 429 asked
// for, when it did). Mail and Slack are delivered at least once: a crash after the service took a
// message and before the outbox marked it sends it again (a mail with the same Message-ID); Matrix
// exactly once, by its transaction id.
import type { ChatEffect, MailEffect } from '../core/index.ts';
import type { DispatchContext } from '../engine/effects.ts';
import type { Logger } from '../log.ts';
import { toHtml } from '../report/html.ts';
import { labelerOf, type ChangeLabeler } from '../report/model.ts';
import { toText } from '../report/text.ts';
import type { ChatRoom } from './chat.ts';
import { inAllowedDomains } from './config.ts';
import { mailMessage, messageContent } from './message.ts';
import { senderDomain, type SmtpMailer } from './smtp.ts';

export interface DeliveryOptions {
  /** Null: this server sends no mail. */
  mailer: Pick<SmtpMailer, 'send' | 'label' | 'from'> | null;
  /** `email.allowed_domains`: an author's address outside them is not mailed (a commit can name any). */
  allowedDomains?: readonly string[] | undefined;
  /** The chat rooms of `channels:`, by name. */
  rooms: Record<string, ChatRoom>;
  log: Logger;
  /** How each host labels a change; by host. */
  labels?: Record<string, ChangeLabeler>;
  publicUrl?: string | undefined;
}

export class Delivery {
  private readonly labelOf: ChangeLabeler;

  constructor(private readonly opts: DeliveryOptions) {
    this.labelOf = labelerOf(opts.labels);
  }

  async deliver(
    effect: MailEffect | ChatEffect,
    key: string,
    ctx: DispatchContext,
  ): Promise<void | { refused: string }> {
    if (effect.type === 'mail') return this.mail(effect, key, ctx);
    const room = Object.hasOwn(this.opts.rooms, effect.channel) ? this.opts.rooms[effect.channel] : undefined;
    if (!room) return this.refused(ctx, `chat channel ${effect.channel} is not declared on this server`, key);
    const { subject, doc } = messageContent(effect.about, {
      queue: ctx.queue,
      file: ctx.file,
      labelOf: this.labelOf,
      publicUrl: this.opts.publicUrl,
    });
    const result = await room.send(
      { subject, text: toText(doc.filter((b) => !('marker' in b))), html: toHtml(doc) },
      key,
    );
    if (!result.sent)
      return this.refused(ctx, `${room.label} refused a message for good: ${result.permanent} (${subject})`, key);
    this.opts.log.info({ queue: ctx.queue, channel: effect.channel, subject }, `told ${room.label}`);
  }

  private async mail(effect: MailEffect, key: string, ctx: DispatchContext): Promise<void | { refused: string }> {
    const { mailer, log, publicUrl } = this.opts;
    const to = effect.to.join(', ');
    if (!effect.to.every((a) => inAllowedDomains(a, this.opts.allowedDomains)))
      return this.refused(ctx, `a mail to ${to} was not sent: outside email.allowed_domains`, key);
    if (!mailer) return this.refused(ctx, `a mail to ${to} was decided, but this server sends no mail`, key);
    const message = mailMessage(effect, key, {
      queue: ctx.queue,
      file: ctx.file,
      labelOf: this.labelOf,
      publicUrl,
      domain: senderDomain(mailer.from),
    });
    const result = await mailer.send(effect.to, message);
    if (!result.sent)
      return this.refused(
        ctx,
        `mail to ${to} refused for good by ${mailer.label}: ${result.permanent} (subject: ${message.subject})`,
        key,
      );
    log.info({ queue: ctx.queue, to, subject: message.subject, messageId: message.messageId }, `mail sent to ${to}`);
  }

  /** Logs what was not sent and will not be tried again, and notes it on the queue's page. */
  private async refused(ctx: DispatchContext, text: string, key: string): Promise<{ refused: string }> {
    this.opts.log.error({ queue: ctx.queue, key }, text);
    await ctx.notice?.({ at: ctx.now(), level: 'error', code: 'message-failed', message: text });
    return { refused: text };
  }
}
