// Creates the Probot instance from the environment and mounts it on our server with createNodeMiddleware,
// so that the server also runs without GitHub. GHE_HOST and GHE_PROTOCOL point every API call at
// a GitHub Enterprise Server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeMiddleware, Probot, type ProbotOctokit } from 'probot';
import { GithubActionsDispatcher, type RequestOctokit } from '../../ci/github-actions.ts';
import type { SharedQueue } from '../../config/repo.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Logger } from '../../log.ts';
import { HttpError, parseJsonBody, readBody, sendError, unauthenticatedBodies } from '../../http/body.ts';
import { payloadProblem } from './payloads.ts';
import type { Mount } from '../../http/mount.ts';
import { verifySignature } from '../../http/signature.ts';
import { readAppPrivateKey } from '../../startup/checks.ts';
import { SetupError } from '../../config/setup-error.ts';
import { githubApp } from './app.ts';
import { RetryingOctokit } from './octokit.ts';
import { GithubReporter } from './reporter.ts';

export const WEBHOOKS_PATH = '/api/github/webhooks';
/** GitHub caps webhook payloads at 25 MB. */
const WEBHOOK_LIMIT = 25 * 1024 * 1024;

export interface GithubHost {
  probot: Probot;
  reporter: GithubReporter;
  dispatcher: GithubActionsDispatcher;
  mount: Mount;
}

export interface GithubOptions {
  engine: Engine;
  log: Logger;
  publicUrl?: string | undefined;
  now?: () => number;
  /** The queues the server config declares (`queues:`). */
  sharedQueues?: Readonly<Record<string, SharedQueue>>;
  /** The CI providers the server has, to refuse a config naming another. */
  providers?: () => readonly string[];
  /** For tests: an Octokit class without retries and throttling. */
  Octokit?: typeof ProbotOctokit;
}

export function githubBaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  return env.GHE_HOST ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3` : undefined;
}

export async function createGithubHost(env: NodeJS.ProcessEnv, opts: GithubOptions): Promise<GithubHost> {
  const privateKey = await readAppPrivateKey(env);
  const secret = env.WEBHOOK_SECRET;
  if (!secret)
    throw new SetupError(
      "APP_ID is set but WEBHOOK_SECRET is not: set it to the App's webhook secret (ost-gate accepts only signed webhooks)",
    );
  const baseUrl = githubBaseUrl(env);
  const probot = new Probot({
    appId: env.APP_ID,
    privateKey,
    secret,
    log: opts.log.child({ component: 'github' }) as never,
    ...(baseUrl ? { baseUrl } : {}),
    Octokit: opts.Octokit ?? RetryingOctokit,
  });
  const installations = new Map<string, number>();
  const octokitFor = async (repo: string): Promise<RequestOctokit> => {
    let id = installations.get(repo);
    if (id === undefined) {
      const app = await probot.auth();
      const [owner, name] = repo.split('/') as [string, string];
      const res = await app.request('GET /repos/{owner}/{repo}/installation', { owner, repo: name });
      id = (res.data as { id: number }).id;
      installations.set(repo, id);
    }
    return (await probot.auth(id)) as unknown as RequestOctokit;
  };
  const reporter = new GithubReporter(octokitFor, opts.publicUrl);
  const dispatcher = new GithubActionsDispatcher(octokitFor, opts.log);
  const appFn = githubApp({
    engine: opts.engine,
    reporter,
    log: opts.log,
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.sharedQueues ? { sharedQueues: opts.sharedQueues } : {}),
    ...(opts.providers ? { providers: opts.providers } : {}),
    ghes: !!env.GHE_HOST,
  });
  const middleware = await createNodeMiddleware(
    (app, options) => {
      app.onAny(async (context) => {
        const p = context.payload as { installation?: { id?: number }; repository?: { full_name?: string } };
        if (p.installation?.id && p.repository?.full_name) installations.set(p.repository.full_name, p.installation.id);
      });
      return appFn(app, options);
    },
    { probot, webhooksPath: WEBHOOKS_PATH },
  );
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST') {
      // Verified here first, in constant time, so that a bad signature is a 401 (the library answers 400).
      const body = await readBody(req, WEBHOOK_LIMIT, unauthenticatedBodies);
      if (!verifySignature(secret, body, req.headers['x-hub-signature-256'] as string | undefined)) {
        opts.log.warn(
          { delivery: req.headers['x-github-delivery'] },
          'GitHub webhook with a missing or bad signature rejected',
        );
        sendError(res, 401, 'missing or bad X-Hub-Signature-256: check that WEBHOOK_SECRET matches the GitHub App');
        return;
      }
      const event = req.headers['x-github-event'];
      if (typeof event !== 'string' || !/^[a-z][a-z_]{0,63}$/.test(event) || event in Object.prototype)
        throw new HttpError(400, 'missing or bad X-GitHub-Event header: expected an event name like push');
      const problem = payloadProblem(event, parseJsonBody(body, 'a GitHub webhook payload'));
      if (problem) {
        opts.log.warn(
          { event, delivery: req.headers['x-github-delivery'] },
          `malformed ${event} payload refused: ${problem}`,
        );
        throw new HttpError(400, `malformed ${event} payload: ${problem}`);
      }
      (req as IncomingMessage & { body?: string }).body = body.toString('utf8');
    }
    await middleware(req, res, () => {
      res.writeHead(404);
      res.end();
    });
  };
  return { probot, reporter, dispatcher, mount: { path: WEBHOOKS_PATH, source: 'github', handle } };
}
