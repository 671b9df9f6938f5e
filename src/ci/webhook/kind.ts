// The `webhook:<name>` runner kind: a CI the server config declares under `webhooks:`, sent each run
// as a signed POST; it posts the result back to the callback.
import { z } from 'zod';
import { SetupError } from '../../config/setup-error.ts';
import { serverName } from '../../config/parts.ts';
import type { RunnerKind } from '../kind.ts';
import { WebhookDispatcher } from './dispatcher.ts';

/** `webhooks:` in the server config: where each CI takes runs, and the variable holding its secret. */
const webhooksSection = z
  .record(serverName, z.object({ url: z.url(), secret_env: z.string().min(1).optional() }).strict())
  .default({});

type WebhookRunner = z.output<typeof webhooksSection>[string];

/** The webhook runners a server config declares. */
function webhookRunners(server: Readonly<Record<string, unknown>>): Record<string, WebhookRunner> {
  return (server.webhooks ?? {}) as Record<string, WebhookRunner>;
}

export const webhookKind: RunnerKind = {
  id: 'webhook',
  config: {
    id: 'webhook',
    provider: { kind: 'webhook', named: true },
    server: { webhooks: webhooksSection },
    declared: (server) => Object.keys(webhookRunners(server)).map((n) => `webhook:${n}`),
  },
  target: (ci) => ci.provider,
  callback: true,
  setup: (runner) => `declare ${runner ?? 'it'} under webhooks: in the server config`,
  factory: {
    id: 'webhooks',
    howToEnable: 'declare webhook runners under webhooks: in OST_SERVER_CONFIG',
    create({ config, env, callbackUrl }) {
      const hooks = Object.entries(webhookRunners(config));
      if (hooks.length === 0) return null;
      const dispatchers = Object.fromEntries(
        hooks.map(([runner, hook]) => {
          const secretEnv = hook.secret_env ?? 'OST_CALLBACK_SECRET';
          const secret = env[secretEnv];
          if (!secret)
            throw new SetupError(
              `webhooks.${runner} needs a secret: set ${secretEnv} to the secret its CI checks signatures with`,
            );
          return [`webhook:${runner}`, new WebhookDispatcher({ url: hook.url, secret, callbackUrl })];
        }),
      );
      return { dispatchers, summary: `webhook runners: ${hooks.map(([n]) => n).join(', ')}` };
    },
  },
};
