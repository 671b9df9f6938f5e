// Where the GitHub host listens and which API it calls: light enough for the factory and the
// manifest to read without loading Probot.

/** Where GitHub posts the App's webhooks. */
export const WEBHOOKS_PATH = '/api/github/webhooks';

/** The API of a GitHub Enterprise Server (GHE_HOST, GHE_PROTOCOL); undefined for github.com. */
export function githubBaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3` : undefined;
}
