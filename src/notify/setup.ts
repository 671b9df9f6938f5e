// Mail on this server: from the server config's `email:` section, the sender the performer sends
// mail effects with, and the planner that adds them to each step. Null without the section.
import type { ServerConfig } from '../config/server.ts';
import type { Logger } from '../log.ts';
import type { ChangeLabeler } from '../report/model.ts';
import type { EmailServerSettings } from './config.ts';
import { MailDelivery } from './mail-delivery.ts';
import { plannedMails } from './plan.ts';
import { SmtpMailer } from './smtp.ts';

export interface MailSetup {
  delivery: MailDelivery;
  plan: typeof plannedMails;
  /** One line for the start-up log and /healthz. */
  summary: string;
  stop: () => Promise<void>;
}

export function mailSetup(deps: {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  log: Logger;
  labels: Record<string, ChangeLabeler>;
  publicUrl: string | undefined;
}): MailSetup | null {
  const settings = (deps.config as { email?: EmailServerSettings }).email;
  if (!settings) return null;
  const mailer = new SmtpMailer(settings, deps.env);
  const { log, labels, publicUrl } = deps;
  return {
    delivery: new MailDelivery({ mailer, log, labels, publicUrl }),
    plan: plannedMails,
    summary: `mail through ${mailer.label} from ${settings.from}`,
    stop: async () => mailer.close(),
  };
}
