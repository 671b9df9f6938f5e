// `ost-gate github-app create`: the manifest flow against a stand-in for GitHub on 127.0.0.1, which
// takes the manifest form, redirects back with a code, and converts the code as GHES documents it.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { get as httpGet, createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { runGithubApp } from '../../src/cli/github-app.ts';
import { documentedAnswer, OLDEST_GHES } from '../helpers/github-spec.ts';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END RSA PRIVATE KEY-----\n';
const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x60;/g, '`')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const protocol = process.env.GHE_PROTOCOL;
afterEach(() => {
  if (protocol === undefined) delete process.env.GHE_PROTOCOL;
  else process.env.GHE_PROTOCOL = protocol;
});

describe('ost-gate github-app create', () => {
  it('posts the manifest from app.yml, converts the code, and writes the credentials to a 0600 .env, printing no secret', async () => {
    const manifests: Record<string, any>[] = [];
    const github = createServer(async (req, res) => {
      const url = new URL(req.url!, 'http://x');
      if (req.method === 'POST' && url.pathname === '/organizations/ovirt/settings/apps/new') {
        const manifest = JSON.parse(new URLSearchParams(await bodyOf(req)).get('manifest')!);
        manifests.push(manifest);
        res.writeHead(302, { location: `${manifest.redirect_url}?code=abc123&state=${url.searchParams.get('state')}` });
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/api/v3/app-manifests/abc123/conversions') {
        const app = documentedAnswer(
          'POST /app-manifests/{code}/conversions',
          201,
          {
            id: 4242,
            slug: 'ost-gate-ovirt',
            html_url: 'http://ghe/github-apps/ost-gate-ovirt',
            pem: PEM,
            webhook_secret: 'whsec-very-secret',
            client_secret: 'client-very-secret',
          },
          OLDEST_GHES,
        );
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
        return res.end(JSON.stringify(app));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((ok) => github.listen(0, '127.0.0.1', ok));
    const port = (github.address() as AddressInfo).port;
    process.env.GHE_PROTOCOL = 'http';
    const envFile = join(await mkdtemp(join(tmpdir(), 'ost-app-')), '.env');
    const printed: string[] = [];
    let opened!: (url: string) => void;
    const page = new Promise<string>((ok) => (opened = ok));
    const done = runGithubApp(
      [
        'create',
        '--ghe-host',
        `127.0.0.1:${port}`,
        '--org',
        'ovirt',
        '--url',
        'https://ost.example.org/',
        '--name',
        'ost-gate ovirt',
        '--credentials',
        envFile,
      ],
      (line) => {
        printed.push(line);
        const m = /^open (http:\/\/127\.0\.0\.1:\d+\/) /.exec(line);
        if (m) opened(m[1]!);
      },
    );
    try {
      // the browser: the local page, its form posted to GitHub, GitHub's redirect followed back
      const html = await (await fetch(await page)).text();
      const action = unescape(/action="([^"]+)"/.exec(html)![1]!);
      const manifest = unescape(/name="manifest" value="([^"]+)"/.exec(html)![1]!);
      const posted = await fetch(action, {
        method: 'POST',
        body: new URLSearchParams({ manifest }),
        redirect: 'manual',
      });
      expect(posted.status).toBe(302);
      const back = await fetch(posted.headers.get('location')!);
      expect(await back.text()).toMatch(/Created the App ost-gate-ovirt/);
      expect(await done).toBe(0);
    } finally {
      github.close();
    }
    const appYml = parse(await readFile(join(import.meta.dirname, '..', '..', 'app.yml'), 'utf8'));
    expect(manifests[0]).toMatchObject({
      default_permissions: appYml.default_permissions,
      default_events: appYml.default_events,
      name: 'ost-gate ovirt',
      hook_attributes: { url: 'https://ost.example.org/api/github/webhooks', active: true },
      url: 'https://ost.example.org/',
    });
    const env = await readFile(envFile, 'utf8');
    expect(env).toContain('APP_ID="4242"');
    expect(env).toContain(`PRIVATE_KEY=${JSON.stringify(PEM)}`);
    expect(env).toContain('WEBHOOK_SECRET="whsec-very-secret"');
    expect((await stat(envFile)).mode & 0o777).toBe(0o600);
    const output = printed.join('\n');
    expect(output).toMatch(/created the GitHub App ost-gate-ovirt \(id 4242\)/);
    for (const secret of ['secretkeymaterial', 'whsec-very-secret', 'client-very-secret'])
      expect(output).not.toContain(secret);
  });

  it('says that --env-file is --credentials now', async () => {
    await expect(runGithubApp(['create', '--env-file', '.env'], () => undefined)).rejects.toThrow(
      /--env-file is --credentials FILE now \(Node\.js takes --env-file for itself/,
    );
  });

  it('refuses a redirect without the state it sent, and ends with exit 1 when GitHub refuses the code', async () => {
    const github = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }));
    });
    await new Promise<void>((ok) => github.listen(0, '127.0.0.1', ok));
    process.env.GHE_PROTOCOL = 'http';
    const printed: string[] = [];
    let opened!: (url: string) => void;
    const page = new Promise<string>((ok) => (opened = ok));
    const envFile = join(await mkdtemp(join(tmpdir(), 'ost-app-')), '.env');
    const host = `127.0.0.1:${(github.address() as AddressInfo).port}`;
    const done = runGithubApp(['create', '--ghe-host', host, '--credentials', envFile], (line) => {
      printed.push(line);
      const m = /^open (http:\/\/127\.0\.0\.1:\d+\/) /.exec(line);
      if (m) opened(m[1]!);
    });
    try {
      const base = await page;
      const state = /state=([0-9a-f]+)/.exec(await (await fetch(base)).text())![1];
      const forged = await fetch(`${base}done?code=abc&state=not-the-one`);
      expect(forged.status).toBe(400);
      // a page of another site that got its name pointed at 127.0.0.1 (DNS rebinding) is refused
      const rebound = await new Promise<number>((ok, fail) =>
        httpGet(`${base}`, { headers: { host: 'evil.example:80' } }, (r) => ok(r.statusCode!)).on('error', fail),
      );
      expect(rebound).toBe(421);
      const refused = await fetch(`${base}done?code=stale&state=${state}`);
      expect(refused.status).toBe(502);
      expect(await done).toBe(1);
      expect(printed.at(-1)).toMatch(/GitHub refused the manifest code \(404\)/);
      expect(await stat(envFile).catch(() => null)).toBeNull();
    } finally {
      github.close();
    }
  });
});
