// The GitHub host from the environment: on when APP_ID is set (with its key and webhook secret).
// It brings the github-actions dispatcher, which needs the App's installation tokens.
import type { HostFactory } from '../types.ts';
import { githubChangeLabel } from './ids.ts';
import { createGithubHost, githubBaseUrl, WEBHOOKS_PATH } from './probot.ts';

export const githubHostFactory: HostFactory = {
  id: 'github',
  howToEnable: `set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET to receive webhooks at ${WEBHOOKS_PATH}`,
  async create({ env, config, engine, log, publicUrl, providers }) {
    if (!env.APP_ID) return null;
    const github = await createGithubHost(env, { engine, log, publicUrl, sharedQueues: config.queues, providers });
    const api = githubBaseUrl(env);
    return {
      id: 'github',
      reporter: github.reporter,
      changeLabel: githubChangeLabel,
      dispatchers: { 'github-actions': github.dispatcher },
      mount: github.mount,
      summary: `GitHub App ${env.APP_ID}: webhooks at ${WEBHOOKS_PATH}${api ? `, API at ${api}` : ''}`,
    };
  },
};
