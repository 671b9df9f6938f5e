// The server config (OST_SERVER_CONFIG, YAML): the queues shared across owners or hosts, the tick,
// and the sections the runner kinds and hosts bring (command runners, webhook runners, git
// repositories to watch: each declared in its part, parts.ts).
// Commands live here, never in a repo config: whoever can merge to a repo must not run code on the bot's host.
import { z } from 'zod';
import { duration } from './duration.ts';
import type { ConfigPart } from './parts.ts';
import { queueName, sharedQueueSchemaWith, type SharedQueue } from './repo.ts';
import { ConfigError } from './errors.ts';

/** The server config schema with the parts' sections; a shared queue's named runner must be declared in it. */
export function serverConfigSchemaWith(parts: readonly ConfigPart[]) {
  const sections: z.ZodRawShape = Object.assign({}, ...parts.map((p) => p.server ?? {}));
  return z
    .object({
      ...sections,
      /** Queues shared across owners or hosts: only the server's operator may declare them. */
      queues: z.record(queueName, sharedQueueSchemaWith(parts)).default({}),
      tick: duration.default(5_000),
    })
    .strict()
    .superRefine((cfg, ctx) => {
      const declared = declaredProviders(parts, cfg);
      const named = parts.flatMap((p) => (p.provider?.named ? [p.provider.kind] : []));
      for (const [queue, q] of Object.entries(cfg.queues as Record<string, SharedQueue>)) {
        const [kind, runner] = q.ci.provider.split(':') as [string, string | undefined];
        if (!named.includes(kind) || declared.includes(q.ci.provider)) continue;
        const section = parts.find((p) => p.provider?.kind === kind && p.server);
        const where = section ? ` under ${Object.keys(section.server!)[0]}:` : '';
        ctx.addIssue({
          code: 'custom',
          path: ['queues', queue, 'ci', 'provider'],
          message: `not declared in this file: add ${runner}${where}`,
        });
      }
    });
}

/** A valid server config: the shared queues and the tick, and each part's own sections (it reads its own). */
export interface ServerConfig {
  queues: Record<string, SharedQueue>;
  tick: number;
  readonly [section: string]: unknown;
}

/** The providers a server config declares itself (its `command:` runners and `webhook:` CIs, by the parts). */
export function declaredProviders(parts: readonly ConfigPart[], config: Readonly<Record<string, unknown>>): string[] {
  return parts.flatMap((p) => p.declared?.(config) ?? []);
}

/** A server config file that is not there. */
export class MissingConfigError extends ConfigError {
  constructor(readonly path: string) {
    super(path, ['the file does not exist']);
    this.message = `${path} does not exist`;
  }
}
