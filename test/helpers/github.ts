// A GitHub test bed: the real engine, store and GitHub host, Probot fed with payloads from
// @octokit/webhooks-examples, and nock standing in for the GitHub API (recording what was sent).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples';
import nock from 'nock';
import { ProbotOctokit } from 'probot';
import type { Dispatcher } from '../../src/engine/effects.ts';
import { Engine } from '../../src/engine/engine.ts';
import { RoutingPerformer } from '../../src/engine/performer.ts';
import { githubChangeLabel } from '../../src/hosts/github/ids.ts';
import { createGithubHost, type GithubHost } from '../../src/hosts/github/probot.ts';
import { silentLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { configRules } from '../../src/registry.ts';

export const REPO = 'Codertocat/Hello-World';
export const INSTALLATION = 2;
export const WEBHOOK_SECRET = 'webhook-test-secret';
export const privateKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
}).privateKey;

/** A copy of a real example payload of `name` (the first one matching `pick`). */
export function example<T = Record<string, unknown>>(
  name: string,
  pick: (e: Record<string, unknown>) => boolean = () => true,
): T {
  const group = (examples as unknown as { name: string; examples: Record<string, unknown>[] }[]).find(
    (g) => g.name === name,
  )!;
  return structuredClone(group.examples.find(pick)!) as T;
}

export interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export interface GithubBed {
  host: GithubHost;
  engine: Engine;
  store: LowdbStore;
  sent: Sent[];
  api: nock.Scope;
  receive(name: string, payload: Record<string, unknown>, id?: string): Promise<void>;
}

export const octokitForTests = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { enabled: false },
}));

export async function githubBed(
  config: string | (() => string),
  baseUrl = 'https://api.github.com',
  env: NodeJS.ProcessEnv = {},
  extra: { dispatchers?: Record<string, Dispatcher> } = {},
): Promise<GithubBed> {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-gh-')));
  const dispatchers = { ...extra.dispatchers };
  const reporters = {};
  const engine = new Engine({
    store,
    performer: new RoutingPerformer({ dispatchers, reporters, labels: { github: githubChangeLabel } }),
  });
  const host = await createGithubHost(
    { APP_ID: '1', PRIVATE_KEY: privateKey, WEBHOOK_SECRET, ...env },
    { engine, rules: configRules, log: silentLogger, Octokit: octokitForTests as never },
  );
  Object.assign(dispatchers, { 'github-actions': host.dispatcher });
  Object.assign(reporters, { github: host.reporter });
  const sent: Sent[] = [];
  const api = nock(baseUrl).persist();
  api.on('request', (req: { method: string; path: string }, _interceptor: unknown, body: string) => {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = body ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      // not JSON
    }
    sent.push({ method: req.method, path: decodeURIComponent(req.path), body: parsed });
    if (process.env.GH_TRACE) console.log(Date.now() % 100000, req.method, req.path);
  });
  api
    .post(`/app/installations/${INSTALLATION}/access_tokens`)
    .reply(201, { token: 'ghs_test', expires_at: '2099-01-01T00:00:00Z', permissions: {} });
  api.get(`/repos/${REPO}/installation`).reply(200, { id: INSTALLATION });
  api
    .get(/\/repos\/Codertocat\/Hello-World\/contents\/\.github(%2F|\/)ost-gate\.yml/)
    .reply(200, () => (typeof config === 'function' ? config() : config), {
      'content-type': 'application/vnd.github.raw; charset=utf-8',
    });
  return {
    host,
    engine,
    store,
    sent,
    api,
    async receive(name, payload, id) {
      await host.probot.receive({ id: id ?? `delivery-${Math.random()}`, name, payload } as never);
      await engine.idle();
    },
  };
}

/** A push of `commits` to `branch`, built on the real push example. */
export function pushPayload(
  before: string,
  commits: { id: string; message: string; files?: string[] }[],
  branch = 'main',
  forced = false,
): Record<string, unknown> {
  const p = example('push', (e) => String(e.ref).startsWith('refs/heads/')) ?? example('push');
  return {
    ...p,
    ref: `refs/heads/${branch}`,
    before,
    after: commits.at(-1)!.id,
    forced,
    deleted: false,
    created: false,
    installation: { id: INSTALLATION, node_id: 'x' },
    commits: commits.map((c) => ({
      id: c.id,
      tree_id: c.id,
      distinct: true,
      message: c.message,
      timestamp: '2026-11-24T10:00:00Z',
      url: `https://github.com/${REPO}/commit/${c.id}`,
      author: { name: 'Dev', email: 'dev@example.invalid', username: 'dev' },
      committer: { name: 'Dev', email: 'dev@example.invalid' },
      added: c.files ?? ['src/x.c'],
      removed: [],
      modified: [],
    })),
    head_commit: null,
  };
}
