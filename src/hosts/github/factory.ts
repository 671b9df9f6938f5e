// The GitHub host from the environment: on when APP_ID is set (with its key and webhook secret).
// It brings the github-actions dispatcher, which needs the App's installation tokens.
import { dispatchInputsProblem } from '../../ci/github-actions/kind.ts';
import { SetupError } from '../../config/setup-error.ts';
import { hostDeps } from '../common/host-deps.ts';
import type { HostFactory } from '../types.ts';
import { githubConfigPart } from './config.ts';
import { githubChangeLabel } from './ids.ts';
import { githubBaseUrl, WEBHOOKS_PATH } from './endpoints.ts';

export const githubHostFactory: HostFactory = {
  id: 'github',
  config: githubConfigPart,
  howToEnable: `set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET to receive webhooks at ${WEBHOOKS_PATH}`,
  async create(ctx) {
    const { env, config } = ctx;
    if (!env.APP_ID) return null;
    // a declared queue's workflow_dispatch inputs must fit the GitHub it runs on: GHES takes fewer
    if (env.GHE_HOST)
      for (const [name, queue] of Object.entries(config.queues)) {
        if (queue.ci.provider !== 'github-actions') continue;
        const problem = dispatchInputsProblem(Object.keys(queue.ci.inputs).length, true);
        if (problem)
          throw new SetupError(
            `queues.${name}.ci.inputs in the server config: ${problem}; remove inputs, or pass them in one JSON input`,
          );
      }
    // Probot is loaded only for a server that runs the App
    const { createGithubHost } = await import('./probot.ts');
    const github = await createGithubHost(env, { ...hostDeps(ctx), log: ctx.log });
    const api = githubBaseUrl(env);
    return {
      id: 'github',
      reporter: github.reporter,
      reverter: github.reverter,
      changeLabel: githubChangeLabel,
      dispatchers: { 'github-actions': github.dispatcher },
      mount: github.mount,
      summary: `GitHub App ${env.APP_ID}: webhooks at ${WEBHOOKS_PATH}${api ? `, API at ${api}` : ''}`,
    };
  },
};
