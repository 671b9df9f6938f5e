// The server config (OST_SERVER_CONFIG, YAML): local command runners, webhook runners, git repos to watch,
// and the queues shared across owners or hosts.
// Commands live here, never in a repo config: whoever can merge to a repo must not run code on the bot's host.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { duration } from './duration.ts';
import { queueName, sharedQueueSchema } from './repo.ts';
import { ConfigError, describeIssues, parseYamlConfig } from './errors.ts';

const name = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a name is letters, digits, . _ and -');

export const serverConfigSchema = z
  .object({
    runners: z
      .record(
        name,
        z
          .object({
            command: z
              .array(z.string().min(1))
              .min(1, 'give the program and its arguments as a list; no shell is used'),
            workdir: z.string().min(1).optional(),
            env: z.record(z.string(), z.string()).default({}),
          })
          .strict(),
      )
      .default({}),
    webhooks: z.record(name, z.object({ url: z.url(), secret_env: z.string().min(1).optional() }).strict()).default({}),
    git: z
      .array(
        z
          .object({
            name,
            url: z.string().min(1),
            branch: z.string().min(1).default('master'),
            interval: duration.default(30_000),
            notes: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    /** Queues shared across owners or hosts: only the server's operator may declare them. */
    queues: z.record(queueName, sharedQueueSchema).default({}),
    tick: duration.default(5_000),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // a declared queue's runner must be one this file declares
    const declared = serverProviders(cfg);
    for (const [queue, q] of Object.entries(cfg.queues)) {
      if (!/^(command|webhook):/.test(q.ci.provider) || declared.includes(q.ci.provider)) continue;
      const [kind, runner] = q.ci.provider.split(':') as [string, string];
      ctx.addIssue({
        code: 'custom',
        path: ['queues', queue, 'ci', 'provider'],
        message: `not declared in this file: add ${runner} under ${kind === 'command' ? 'runners' : 'webhooks'}:`,
      });
    }
  });

export type ServerConfig = z.output<typeof serverConfigSchema>;

/** The providers a server config declares itself: its `command:` runners and `webhook:` CIs. */
export function serverProviders(config: Pick<ServerConfig, 'runners' | 'webhooks'>): string[] {
  return [
    ...Object.keys(config.runners).map((n) => `command:${n}`),
    ...Object.keys(config.webhooks).map((n) => `webhook:${n}`),
  ];
}

/** A server config file that is not there. */
export class MissingConfigError extends ConfigError {
  constructor(readonly path: string) {
    super(path, ['the file does not exist']);
    this.message = `${path} does not exist`;
  }
}

export function validateServerConfig(input: unknown, source = 'server config'): ServerConfig {
  const result = serverConfigSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(source, describeIssues(result.error, input));
  return result.data;
}

export async function loadServerConfig(path: string | undefined): Promise<ServerConfig> {
  if (!path) return validateServerConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MissingConfigError(path);
    throw new ConfigError(path, [`cannot read it: ${code ?? (err as Error).message}`]);
  }
  return validateServerConfig(parseYamlConfig(text, path), path);
}
