// Creates the Probot instance from the environment and mounts it on our server with createNodeMiddleware,
// so that the server also runs without GitHub. GHE_HOST and GHE_PROTOCOL point every API call at
// a GitHub Enterprise Server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeMiddleware, Probot, type ProbotOctokit } from 'probot';
import { GithubActionsDispatcher, type RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import type { Logger } from '../../log.ts';
import { HttpError, parseJsonBody, readBody, sendError, unauthenticatedBodies } from '../../http/body.ts';
import { payloadProblem } from './payloads.ts';
import type { Mount } from '../../http/mount.ts';
import { verifySignature } from '../../http/signature.ts';
import { readAppPrivateKey } from '../../startup/checks.ts';
import { SetupError } from '../../config/setup-error.ts';
import type { HostDeps } from '../common/host-deps.ts';
import { githubApp } from './app.ts';
import { githubBaseUrl, WEBHOOKS_PATH } from './endpoints.ts';
import { RetryingOctokit } from './octokit.ts';
import { GithubReverter } from './revert.ts';
import { GithubReporter } from './reporter.ts';

export { githubBaseUrl, WEBHOOKS_PATH } from './endpoints.ts';
/** GitHub caps webhook payloads at 25 MB. */
const WEBHOOK_LIMIT = 25 * 1024 * 1024;

export interface GithubHost {
  probot: Probot;
  reporter: GithubReporter;
  reverter: GithubReverter;
  dispatcher: GithubActionsDispatcher;
  mount: Mount;
}

export interface GithubOptions extends HostDeps {
  log: Logger;
  /** For tests: an Octokit class without retries and throttling. */
  Octokit?: typeof ProbotOctokit;
}

/**
 * The App's installation for each repository, learnt from webhooks (or asked once), and an Octokit
 * authenticated as that installation.
 */
class Installations {
  private readonly ids = new Map<string, number>();

  constructor(private readonly probot: Probot) {}

  remember(repo: string, id: number): void {
    this.ids.set(repo, id);
  }

  forget(repo: string): void {
    this.ids.delete(repo);
  }

  readonly octokitFor = async (repo: string): Promise<RequestOctokit> => {
    let id = this.ids.get(repo);
    if (id === undefined) {
      const app = await this.probot.auth();
      const [owner, name] = repo.split('/') as [string, string];
      const res = await app.request('GET /repos/{owner}/{repo}/installation', { owner, repo: name });
      id = (res.data as { id: number }).id;
      this.ids.set(repo, id);
    }
    return (await this.probot.auth(id)) as unknown as RequestOctokit;
  };
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
  const installations = new Installations(probot);
  const reporter = new GithubReporter(installations.octokitFor, opts.publicUrl);
  const reverter = new GithubReverter(installations.octokitFor, opts.log);
  const dispatcher = new GithubActionsDispatcher(installations.octokitFor, opts.log);
  const appFn = githubApp({ ...opts, reporter, installations, ghes: !!env.GHE_HOST });
  const middleware = await createNodeMiddleware(
    (app, options) => {
      app.onAny(async (context) => {
        const p = context.payload as { installation?: { id?: number }; repository?: { full_name?: string } };
        if (p.installation?.id && p.repository?.full_name)
          installations.remember(p.repository.full_name, p.installation.id);
      });
      return appFn(app, options);
    },
    { probot, webhooksPath: WEBHOOKS_PATH },
  );
  const handle = verifiedWebhooks({ secret, log: opts.log, middleware });
  return { probot, reporter, reverter, dispatcher, mount: { path: WEBHOOKS_PATH, source: 'github', handle } };
}

type Middleware = Awaited<ReturnType<typeof createNodeMiddleware>>;

/**
 * POST /api/github/webhooks: the signature verified first, in constant time, so that a bad one is a
 * 401 (the library answers 400); the event name and payload checked; then Probot's middleware.
 */
function verifiedWebhooks({ secret, log, middleware }: { secret: string; log: Logger; middleware: Middleware }) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST') {
      const body = await readBody(req, WEBHOOK_LIMIT, unauthenticatedBodies);
      if (!verifySignature(secret, body, req.headers['x-hub-signature-256'] as string | undefined)) {
        log.warn(
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
        log.warn(
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
}
