// `ost-gate github-app create`: creates the GitHub App from app.yml through GitHub's manifest flow.
// It serves a page on 127.0.0.1 that posts the manifest to GitHub's new-app form; GitHub sends the
// browser back with a code, which is exchanged for the App's id, key and webhook secret. Those are
// written to a .env file (mode 0600) and never printed.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import html from 'html-template-tag';
import {
  buildManifest,
  convertManifestCode,
  newAppFormUrl,
  type CreatedApp,
  type ManifestTarget,
} from '../hosts/github/manifest.ts';
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';

export const githubAppHelp = `Usage: ost-gate github-app create [--url PUBLIC_URL] [--name NAME] [--ghe-host HOST] [--org ORG] [--credentials FILE] [--port N]

Creates the GitHub App with the events and permissions of app.yml, as Probot's manifest flow does:
open the printed local page, confirm on GitHub, and the App's APP_ID, PRIVATE_KEY and WEBHOOK_SECRET
are written to the credentials file (mode 0600), in the .env format. No secret is printed.
  --url PUBLIC_URL     where ost-gate will be reachable; webhooks go to PUBLIC_URL/api/github/webhooks
  --name NAME          the App's name, unique on GitHub (default: app.yml's, ost-gate)
  --ghe-host HOST      a GitHub Enterprise Server instead of github.com (GHE_PROTOCOL=http for a test stand-in)
  --org ORG            create the App in an organization
  --credentials FILE   where to write the credentials (default .env)
  --port N             the local page's port (default: any free port)
`;

/** Sets `values` in a dotenv text, keeping its other lines. */
function withEnv(text: string, values: Record<string, string>): string {
  const lines = text.split('\n').filter((l) => l !== '' && !Object.keys(values).some((k) => l.startsWith(`${k}=`)));
  for (const [k, v] of Object.entries(values)) lines.push(`${k}=${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

async function writeCredentials(file: string, app: CreatedApp): Promise<void> {
  const before = await readFile(file, 'utf8').catch(() => '');
  const values: Record<string, string> = {
    APP_ID: String(app.id),
    PRIVATE_KEY: app.pem,
    GITHUB_CLIENT_ID: app.client_id,
    GITHUB_CLIENT_SECRET: app.client_secret,
  };
  if (app.webhook_secret) values.WEBHOOK_SECRET = app.webhook_secret;
  await writeFile(file, withEnv(before, values), { mode: 0o600 });
  await chmod(file, 0o600);
}

/** What the command was asked: where the App's URL and name come from, where GitHub is, and where to write. */
interface CreateRequest {
  url: string | undefined;
  name: string | undefined;
  target: ManifestTarget;
  envFile: string;
  port: number;
}

/** The command line checked: one line that names the option and what it takes, or null for --help. */
function parseRequest(argv: string[], out: (s: string) => void): CreateRequest | null {
  if (argv.some((a) => a === '--env-file' || a.startsWith('--env-file=')))
    throw new UsageError(
      'github-app: --env-file is --credentials FILE now (Node.js takes --env-file for itself and may never pass it on)',
    );
  const parsed = parseCommand(
    'github-app',
    argv,
    {
      options: {
        url: { type: 'string' },
        'ghe-host': { type: 'string' },
        org: { type: 'string' },
        name: { type: 'string' },
        credentials: { type: 'string', default: '.env' },
        port: { type: 'string', default: '0' },
      },
      usage: githubAppHelp,
      positionals: true,
    },
    out,
  );
  if (!parsed) return null;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'create')
    throw new UsageError(`github-app: the only action is create\n\n${githubAppHelp}`);
  if (!/^\d+$/.test(values.port!)) throw new UsageError(`github-app: --port takes a number, got ${values.port}`);
  // the form's action is built from it, so it may only be a host name or address and a port
  if (values['ghe-host'] !== undefined && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(values['ghe-host']))
    throw new UsageError(`github-app: --ghe-host takes a host name and an optional port, got ${values['ghe-host']}`);
  if (values.name !== undefined && !/^[\w .-]{1,34}$/.test(values.name))
    throw new UsageError(`github-app: --name takes at most 34 letters, digits, spaces, . _ and -, got ${values.name}`);
  return {
    url: values.url,
    name: values.name,
    target: {
      gheHost: values['ghe-host'],
      protocol: process.env.GHE_PROTOCOL === 'http' ? 'http' : 'https',
      org: values.org,
    },
    envFile: resolve(values.credentials!),
    port: Number(values.port),
  };
}

type Page = (status: number, body: string) => void;

/**
 * The two pages of GitHub's manifest flow on 127.0.0.1: `/` posts the manifest to GitHub, and
 * `/done` is where GitHub sends the browser back with a code to trade for the App's credentials.
 * `finish` is told the exit code once the credentials are written (0) or could not be had (1).
 */
function manifestPages(flow: {
  request: CreateRequest;
  base: () => string;
  out: (s: string) => void;
  finish: (code: number) => void;
}) {
  const { request, out, finish } = flow;
  const state = randomBytes(16).toString('hex');
  const form = (page: Page) =>
    void buildManifest(request.url, `${flow.base()}/done`, request.name).then((manifest) =>
      page(
        200,
        html`<form method="post" action="$${newAppFormUrl(request.target, state)}">
          <input type="hidden" name="manifest" value="${JSON.stringify(manifest)}" />
          <p>ost-gate will ask GitHub to create an App with the events and permissions of app.yml.</p>
          <button type="submit">Create the GitHub App</button>
        </form>`,
      ),
    );
  const done = (url: URL, page: Page) => {
    const code = url.searchParams.get('code');
    if (!code || url.searchParams.get('state') !== state)
      return page(400, '<p>This is not GitHub answering the form this page sent. Start again.</p>');
    convertManifestCode(request.target, code)
      .then(async (app) => {
        await writeCredentials(request.envFile, app);
        page(200, html`<p>Created the App ${app.slug}. Its credentials are in ${request.envFile}.</p>`);
        out(`created the GitHub App ${app.slug} (id ${app.id}): ${app.html_url}`);
        out(`wrote APP_ID, PRIVATE_KEY and WEBHOOK_SECRET to ${request.envFile} (mode 0600)`);
        out(`install it on your repositories: ${app.html_url}/installations/new`);
        finish(0);
      })
      .catch((err: Error) => {
        page(502, html`<p>${err.message}</p>`);
        out(`ost-gate: ${err.message}`);
        finish(1);
      });
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    const base = flow.base();
    const url = new URL(req.url ?? '/', base);
    const page: Page = (status, body) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'referrer-policy': 'no-referrer' });
      res.end(`<!doctype html><title>ost-gate: create the GitHub App</title><body>${body}</body>`);
    };
    // a page of another site whose name now points at 127.0.0.1 (DNS rebinding) is not served
    if (req.headers.host !== new URL(base).host)
      return page(421, '<p>This page is only served at the address ost-gate printed.</p>');
    if (url.pathname === '/') return form(page);
    if (url.pathname === '/done') return done(url, page);
    page(404, '<p>Not here.</p>');
  };
}

export async function runGithubApp(argv: string[], out: (s: string) => void): Promise<number> {
  const request = parseRequest(argv, out);
  if (!request) return 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((ok) => (finish = ok));
  let base = '';
  const server: Server = createServer(manifestPages({ request, base: () => base, out, finish }));
  await new Promise<void>((ok) => server.listen(request.port, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  out(`open ${base}/ in a browser on this machine to create the GitHub App`);
  const code = await finished;
  await new Promise<void>((ok) => server.close(() => ok()));
  server.closeAllConnections();
  return code;
}
