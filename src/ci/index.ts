// The CI systems the server knows, besides GitHub Actions (which comes with the GitHub host). A new CI
// is one file with a dispatcher and a factory, and one line here.
import { join } from 'node:path';
import { displayUrl } from '../http/url.ts';
import { SetupError } from '../config/setup-error.ts';
import { CommandDispatcher } from './command.ts';
import { JenkinsDispatcher } from './jenkins.ts';
import type { CiFactory } from './types.ts';
import { WebhookDispatcher } from './webhook.ts';

const commandRunners: CiFactory = {
  id: 'runners',
  howToEnable: 'declare command runners under runners: in OST_SERVER_CONFIG',
  create({ config, dataDir, log, runLogPath }) {
    const names = Object.keys(config.runners);
    if (names.length === 0) return null;
    const runners = Object.entries(config.runners).map(
      ([name, runner]) =>
        [
          name,
          new CommandDispatcher(name, runner, {
            workRoot: join(dataDir, 'work'),
            logPath: runLogPath,
            log,
            activeDir: join(dataDir, 'runs', 'active', name),
          }),
        ] as const,
    );
    return {
      dispatchers: Object.fromEntries(runners.map(([name, d]) => [`command:${name}`, d])),
      summary: `command runners: ${names.join(', ')}`,
      stop: async () => void (await Promise.all(runners.map(([, d]) => d.stopAll()))),
    };
  },
};

const jenkins: CiFactory = {
  id: 'jenkins',
  howToEnable: 'set JENKINS_URL, JENKINS_USER and JENKINS_TOKEN',
  create({ env, log, callbackUrl }) {
    if (!env.JENKINS_URL) return null;
    const dispatcher = new JenkinsDispatcher({
      url: env.JENKINS_URL,
      user: env.JENKINS_USER,
      token: env.JENKINS_TOKEN,
      callbackUrl,
      log,
    });
    const results = callbackUrl
      ? `jobs call back to ${displayUrl(callbackUrl)}`
      : 'no OST_PUBLIC_URL, so results are read by polling';
    return {
      dispatchers: { jenkins: dispatcher },
      summary: `Jenkins at ${displayUrl(env.JENKINS_URL)}; ${results}`,
      stop: () => dispatcher.stop(),
    };
  },
};

const webhooks: CiFactory = {
  id: 'webhooks',
  howToEnable: 'declare webhook runners under webhooks: in OST_SERVER_CONFIG',
  create({ config, env, callbackUrl }) {
    const hooks = Object.entries(config.webhooks);
    if (hooks.length === 0) return null;
    const dispatchers = Object.fromEntries(
      hooks.map(([name, hook]) => {
        const secretEnv = hook.secret_env ?? 'OST_CALLBACK_SECRET';
        const secret = env[secretEnv];
        if (!secret)
          throw new SetupError(
            `webhooks.${name} needs a secret: set ${secretEnv} to the secret its CI checks signatures with`,
          );
        return [`webhook:${name}`, new WebhookDispatcher({ url: hook.url, secret, callbackUrl })];
      }),
    );
    return { dispatchers, summary: `webhook runners: ${hooks.map(([n]) => n).join(', ')}` };
  },
};

export const ciFactories: readonly CiFactory[] = [commandRunners, jenkins, webhooks];
export type { CiContext, CiFactory, CiProvider } from './types.ts';
