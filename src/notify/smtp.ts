// Sending mail over SMTP with nodemailer: the server from `email.smtp` (smtps:// for TLS at connect,
// STARTTLS when a smtp:// server offers it), credentials from the variables `email.user_env` and
// `email.password_env` name. A refusal the server calls permanent (5xx) is told to the caller as
// such; anything else (4xx, no connection, a time-out) is thrown, and the outbox tries again later.
// Logs name the server as `smtp://host:port`, never with a credential.
import nodemailer, { type Transporter } from 'nodemailer';
import { SetupError } from '../config/setup-error.ts';
import type { EmailServerSettings } from './config.ts';
import type { MailMessage } from './message.ts';

/** How long one connection step may take (connect, greeting, a command's answer). */
const SMTP_TIMEOUT_MS = 30_000;

/** What became of a mail the server answered: sent, or refused for good (a 5xx) with its answer. */
export type SendResult = { sent: true } | { sent: false; permanent: string };

export class SmtpMailer {
  private readonly transport: Transporter;
  /** `smtp://host:port`, for logs. */
  readonly label: string;
  readonly from: string;

  constructor(settings: EmailServerSettings, env: NodeJS.ProcessEnv) {
    const url = new URL(settings.smtp);
    const secure = url.protocol === 'smtps:';
    const port = Number(url.port || (secure ? 465 : 587));
    this.label = `${url.protocol}//${url.hostname}:${port}`;
    this.from = settings.from;
    const user = settings.user_env ? env[settings.user_env] : undefined;
    const pass = settings.password_env ? env[settings.password_env] : undefined;
    if (settings.user_env && !user)
      throw new SetupError(`email.user_env names ${settings.user_env}, which is not set: set it to the SMTP user`);
    if (settings.password_env && !pass)
      throw new SetupError(
        `email.password_env names ${settings.password_env}, which is not set: set it to the SMTP password`,
      );
    this.transport = nodemailer.createTransport({
      host: url.hostname,
      port,
      secure,
      ...(user ? { auth: { user, pass: pass ?? '' } } : {}),
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
  }

  /** Sends `message` to `to`. Throws when it may work later (a 4xx, no connection). */
  async send(to: string[], message: MailMessage): Promise<SendResult> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
      });
      return { sent: true };
    } catch (err) {
      const e = err as Error & { responseCode?: number; response?: string };
      if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600)
        return { sent: false, permanent: e.response ?? e.message };
      throw new Error(`${this.label}: ${e.response ?? e.message}`, { cause: err });
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** The domain of an address (`ost-gate <bot@example.org>` -> `example.org`), for Message-IDs. */
export function senderDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'ost-gate.invalid';
}
