// Sending mail over SMTP with nodemailer: the server from `email.smtp` (smtps:// for TLS at connect,
// STARTTLS when a smtp:// server offers it), credentials from the variables `email.user_env` and
// `email.password_env` name. A refusal the server calls permanent (5xx) is told to the caller as
// such; anything else (4xx, no connection, a time-out) is thrown, and the outbox tries again later.
// Logs name the server as `smtp://host:port`, never with a credential. With `email.dir` instead of a
// server, each mail is written there as an .eml file (to try it out; the demo does).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { safeSlug } from '../store/slug.ts';
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
  /** Where mails are written instead of sent (`email.dir`), or null. */
  private readonly dir: string | null;
  private written = 0;

  constructor(settings: EmailServerSettings, env: NodeJS.ProcessEnv) {
    this.from = settings.from;
    this.dir = settings.dir ?? null;
    if (this.dir) {
      this.label = `the directory ${this.dir}`;
      this.transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
      return;
    }
    const url = new URL(settings.smtp!);
    const secure = url.protocol === 'smtps:';
    const port = Number(url.port || (secure ? 465 : 587));
    this.label = `${url.protocol}//${url.hostname}:${port}`;
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
      const info = await this.transport.sendMail({
        from: this.from,
        to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: message.messageId,
        headers: message.headers,
      });
      if (this.dir) await this.write(message.subject, (info as { message: Buffer }).message);
      return { sent: true };
    } catch (err) {
      const e = err as Error & { responseCode?: number; response?: string };
      if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600)
        return { sent: false, permanent: e.response ?? e.message };
      throw new Error(`${this.label}: ${e.response ?? e.message}`, { cause: err });
    }
  }

  /** Writes a mail as `<n>-<subject>.eml` in `email.dir`. */
  private async write(subject: string, raw: Buffer): Promise<void> {
    await mkdir(this.dir!, { recursive: true });
    const n = String(++this.written).padStart(4, '0');
    await writeFile(join(this.dir!, `${Date.now()}-${n}-${safeSlug(subject).slice(0, 60)}.eml`), raw);
  }

  close(): void {
    this.transport.close();
  }
}

/** The domain of an address (`ost-gate <bot@example.org>` -> `example.org`), for Message-IDs. */
export function senderDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'ost-gate.invalid';
}
