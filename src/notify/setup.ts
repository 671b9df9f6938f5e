// Mail and chat on this server: from the server config's `email:` and `channels:` sections, the
// delivery the performer sends mail and chat effects with, and the planner that adds them to each
// step. Null when the server config has neither.
import type { ServerConfig } from '../config/server.ts';
import type { Logger } from '../log.ts';
import type { ChangeLabeler } from '../report/model.ts';
import { chatRooms } from './chat.ts';
import type { ChannelSettings, EmailServerSettings } from './config.ts';
import { Delivery } from './delivery.ts';
import { plannedMessages } from './plan.ts';
import { SmtpMailer } from './smtp.ts';

export interface NotifySetup {
  delivery: Delivery;
  plan: typeof plannedMessages;
  /** One line for the start-up log and /healthz. */
  summary: string;
  stop: () => Promise<void>;
}

export function notifySetup(deps: {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  log: Logger;
  labels: Record<string, ChangeLabeler>;
  publicUrl: string | undefined;
}): NotifySetup | null {
  const { email, channels = {} } = deps.config as {
    email?: EmailServerSettings;
    channels?: Record<string, ChannelSettings>;
  };
  if (!email && Object.keys(channels).length === 0) return null;
  const mailer = email ? new SmtpMailer(email, deps.env) : null;
  const rooms = chatRooms(channels, deps.env);
  const { log, labels, publicUrl } = deps;
  const said = [
    ...(mailer ? [`mail through ${mailer.label} from ${mailer.from}`] : []),
    ...Object.values(rooms).map((r) => r.label),
  ];
  return {
    delivery: new Delivery({ mailer, rooms, log, labels, publicUrl, allowedDomains: email?.allowed_domains }),
    plan: plannedMessages,
    summary: said.join('; '),
    stop: async () => mailer?.close(),
  };
}
