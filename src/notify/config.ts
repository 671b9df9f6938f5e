// What mail and chat add to the configs. The server config's `email:` says how to send mail (the SMTP
// server, the variables holding its credentials, the sender, and the domains repositories may send
// to), its `channels:` the chat rooms there are (a Slack incoming webhook, a Matrix room), each with
// the variable holding its secret. A repository's `report.email` and `report.channels` say who gets
// its verdicts, paused queues and infra errors. A repository names no credential, no address outside
// `email.allowed_domains`, and no channel the server does not declare.
import { z } from 'zod';
import { serverName, type ConfigPart } from '../config/parts.ts';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable');

/** `email:` in the server config. */
export const emailServerSection = z
  .object({
    smtp: z
      .string()
      .regex(/^smtps?:\/\/[^/\s]+\/?$/, 'smtp://host:port (STARTTLS when offered) or smtps://host:port (TLS)')
      .optional(),
    /** Instead of a server: write each mail as an .eml file in this directory (trying it out, the demo). */
    dir: z.string().min(1).optional(),
    user_env: envName.optional(),
    password_env: envName.optional(),
    from: z.string().min(3),
    /** Domains repositories may send to; unset: any. */
    allowed_domains: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((e) => !!e.smtp !== !!e.dir, {
    message: 'give smtp: (the server that sends) or dir: (a directory for .eml files), one of them',
  })
  .optional();

export type EmailServerSettings = NonNullable<z.output<typeof emailServerSection>>;

/** `channels:` in the server config: chat rooms by name, each a Slack incoming webhook or a Matrix room. */
export const channelsServerSection = z
  .record(
    serverName,
    z.union([
      z.object({ slack: z.object({ url_env: envName }).strict() }).strict(),
      z
        .object({
          matrix: z
            .object({
              homeserver: z.url({ protocol: /^https?$/ }),
              room: z.string().regex(/^!.+:.+$/, 'a room id, like !abc:example.org'),
              token_env: envName,
            })
            .strict(),
        })
        .strict(),
    ]),
  )
  .default({});

export type ChannelSettings = z.output<typeof channelsServerSection>[string];

/** `report.email` in a repo config. */
const reportEmail = z
  .object({
    /** Get every verdict of `report.notify`, paused and resumed queues, and infra errors. */
    to: z.array(z.email()).default([]),
    /** The culprit's author gets its culprit verdict. */
    author: z.boolean().default(false),
  })
  .strict()
  .default({ to: [], author: false });

export type ReportEmail = z.output<typeof reportEmail>;

export const notifyConfigPart: ConfigPart = {
  id: 'notify',
  repo: { report: { email: reportEmail, channels: z.array(serverName).default([]) } },
  server: { email: emailServerSection, channels: channelsServerSection },
};

/** The channels of a repo config's `report:` (none when it has none). */
export function reportChannelsOf(report: Readonly<Record<string, unknown>> | undefined): string[] {
  return Array.isArray(report?.channels) ? (report.channels as string[]) : [];
}

/** What is wrong with a repo config's `report.channels` on this server: names it does not declare. */
export function reportChannelsProblems(channels: string[], declared: Readonly<Record<string, unknown>>): string[] {
  const known = Object.keys(declared);
  return channels
    .filter((c) => !Object.hasOwn(declared, c))
    .map(
      (c) =>
        `report.channels: ${c} is not a channel of this server (${known.length ? `it has ${known.join(', ')}` : 'it declares none under channels:'})`,
    );
}

/** The `report.email` of a repo config's `report:` (nobody when it has none). */
export function reportEmailOf(report: Readonly<Record<string, unknown>> | undefined): ReportEmail {
  const email = report?.email as ReportEmail | undefined;
  return { to: email?.to ?? [], author: email?.author ?? false };
}

/** What is wrong with a repo config's `report.email` on this server (no mail set up, a domain not allowed). */
export function reportEmailProblems(email: ReportEmail, server: EmailServerSettings | undefined): string[] {
  if (email.to.length === 0 && !email.author) return [];
  if (!server) return ['report.email: this server sends no mail (its config has no email: section)'];
  const allowed = server.allowed_domains;
  return email.to
    .filter((address) => !inAllowedDomains(address, allowed))
    .map(
      (address) => `report.email.to: ${address} is outside the domains this server sends to (${allowed!.join(', ')})`,
    );
}

/** Whether `address` is in one of `allowed` (`email.allowed_domains`; unset: any), case aside. */
export function inAllowedDomains(address: string, allowed: readonly string[] | undefined): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return !allowed || allowed.some((d) => d.toLowerCase() === domain);
}

/** What a server config finds wrong in a repo config's mail and chat settings (none: it may have them). */
export function notifyProblemsOn(
  server: Readonly<Record<string, unknown>>,
): (repo: { report: Readonly<Record<string, unknown>> }) => string[] {
  const { email, channels = {} } = server as { email?: EmailServerSettings; channels?: Record<string, unknown> };
  return (repo) => [
    ...reportEmailProblems(reportEmailOf(repo.report), email),
    ...reportChannelsProblems(reportChannelsOf(repo.report), channels),
  ];
}
