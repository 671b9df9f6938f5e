// The HTTP server of `ost-gate serve`: dashboard, JSON API, CI callback, health; other handlers
// (GitHub webhooks, Gerrit events) are mounted by path prefix.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Engine } from '../engine/engine.ts';
import { asStoreWriteError, QueueUnavailableError, StoreWriteError } from '../store/errors.ts';
import type { Logger } from '../log.ts';
import { handleAdminCommand, handleAdminForm } from './admin.ts';
import { AdminSessions } from './sessions.ts';
import { handleSignIn, SIGN_IN_PATH, SIGN_OUT_PATH } from './sign-in.ts';
import { TokenGuard } from './token-guard.ts';
import { handleCallback } from './callback.ts';
import { checkToken, dashboard } from './dashboard/routes.ts';
import type { Metrics } from './metrics.ts';
import type { VerdictRecord } from '../core/index.ts';
import { decodeSegment, HttpError, sendError, sendJson } from '../http/body.ts';
import { sendHistoryPage, sendRunLog, type RunsApiOptions } from './runs-api.ts';
import { queueDetail, queueSummary } from './views.ts';
import type { Mount } from '../http/mount.ts';
import type { ChangeLabeler } from '../report/model.ts';

export interface ServerOptions {
  engine: Engine;
  log: Logger;
  callbackSecret?: string | undefined;
  now?: () => number;
  /** The code hosts' handlers (GitHub webhooks, Gerrit events), each at its own path. */
  mounts?: Mount[];
  /** How each change is labelled on the dashboard; the hosts say. */
  labelOf?: ChangeLabeler;
  /** Reported by /healthz. */
  components?: Record<string, string>;
  /** Replicas on PostgreSQL: this one's name, the queues it writes, whether it runs the watchers (/healthz). */
  replica?: () => { name: string; queues: string[]; sources: boolean };
  metrics?: Metrics;
  history?: (queue: string, limit: number) => Promise<VerdictRecord[]>;
  historyPage?: RunsApiOptions['historyPage'];
  /** A command runner's kept log of a run. */
  runLog?: RunsApiOptions['runLog'];
  /** OST_ADMIN_TOKEN: enables POST /api/queues/:queue/commands, as a Bearer token. */
  adminToken?: string | undefined;
  /** OST_METRICS_TOKEN (or the dashboard token): required for /metrics when set, as a Bearer token. */
  metricsToken?: string | undefined;
  /** OST_DASHBOARD_TOKEN: required for the dashboard and the queue API when set. */
  dashboardToken?: string | undefined;
  /** How often the dashboard polls for changes, ms. */
  refreshMs?: number;
}

/** The path of the CI callback, the server's own delivery endpoint. */
const CALLBACK_PATH = '/api/ci/callback';

/** The path of a request, or an HttpError 400 for a request line that is no URL (`//x:99999/`). */
function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    throw new HttpError(400, 'the request path is not a valid URL path');
  }
}

function mountFor(mounts: Mount[], path: string): Mount | undefined {
  return mounts.find((m) => path === m.path || path.startsWith(`${m.path}/`));
}

/** What every route of the server works with. */
interface Site {
  opts: ServerOptions;
  now: () => number;
  started: number;
  mounts: Mount[];
  guard: TokenGuard;
  sessions: AdminSessions;
}

export function createHttpServer(opts: ServerOptions): Server {
  const now = opts.now ?? Date.now;
  const site: Site = {
    opts,
    now,
    started: now(),
    mounts: opts.mounts ?? [],
    guard: new TokenGuard(opts.log),
    sessions: new AdminSessions(now),
  };
  return createServer((req, res) => {
    // no page's address (or anything in it) goes to another site as a Referer
    res.setHeader('referrer-policy', 'no-referrer');
    const fail = (thrown: unknown) => answerFailure({ req, res, thrown, log: opts.log });
    try {
      const path = pathOf(req);
      countDelivery(site, res, path);
      void route(site, req, res, path).catch(fail);
    } catch (err) {
      fail(err);
    }
  });
}

/** The answer to a request that failed: its HTTP error, 503 for data that cannot be used, else 500. */
function answerFailure({
  req,
  res,
  thrown,
  log,
}: {
  req: IncomingMessage;
  res: ServerResponse;
  thrown: unknown;
  log: Logger;
}) {
  const err = asStoreWriteError(thrown);
  if (err instanceof HttpError) {
    if (!res.headersSent) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
    return sendError(res, err.status, err.message);
  }
  // damaged or unwritable data is the operator's to fix: said plainly, with the reason
  if (err instanceof QueueUnavailableError || err instanceof StoreWriteError) {
    log.warn({ err: err.message, path: req.url?.split('?')[0] }, 'request refused: the data cannot be used');
    if (!res.headersSent) sendError(res, 503, err.message);
    return;
  }
  log.error({ err: (err as Error).message, path: req.url?.split('?')[0] }, 'request failed');
  if (!res.headersSent) sendError(res, 500, 'internal error; see the server log');
}

/** Counts deliveries to the hosts' endpoints and the CI callback, by answer, for /metrics. */
function countDelivery(site: Site, res: ServerResponse, path: string): void {
  const source = path === CALLBACK_PATH ? 'ci-callback' : mountFor(site.mounts, path)?.source;
  const metrics = site.opts.metrics;
  if (!source || !metrics) return;
  res.once('finish', () =>
    metrics.deliveries.inc({ source, result: res.statusCode < 400 ? 'accepted' : String(res.statusCode) }),
  );
}

/** Routes a request: the hosts' mounts, the writes (callback, sign-in, commands), then the reads. */
async function route(site: Site, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const mount = mountFor(site.mounts, path);
  if (mount) return mount.handle(req, res);
  if (await routeWrite(site, req, res, path)) return;
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only endpoint: use GET');
  await routeRead(site, req, res, path);
}

/** The routes that change something: the CI callback, signing in and out, and operator commands. */
async function routeWrite(site: Site, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const { opts, now, guard, sessions } = site;
  if (path === CALLBACK_PATH) {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    await handleCallback(req, res, { engine: opts.engine, secret: opts.callbackSecret, log: opts.log, now });
    return true;
  }
  if (path === SIGN_IN_PATH || path === SIGN_OUT_PATH) {
    await handleSignIn(req, res, path, { token: opts.adminToken, sessions, guard, log: opts.log });
    return true;
  }
  const admin = { engine: opts.engine, token: opts.adminToken, log: opts.log, now, guard, sessions };
  const command = /^\/api\/queues\/([^/]+)\/commands$/.exec(path);
  const form = /^\/queues\/([^/]+)\/commands$/.exec(path);
  if (!command && !form) return false;
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  if (command) await handleAdminCommand(req, res, decodeSegment(command[1]!), admin);
  else await handleAdminForm(req, res, decodeSegment(form![1]!), admin);
  return true;
}

/** The read-only routes: metrics, health, the JSON API, and the dashboard's pages. */
async function routeRead(site: Site, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const { opts, now, guard, sessions } = site;
  if (path === '/metrics' && opts.metrics) {
    await checkToken(req, res, opts.metricsToken, guard, 'metrics');
    res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
    res.end(await opts.metrics.registry.metrics());
    return;
  }
  if (path === '/healthz') return sendHealth(site, res);
  await checkToken(req, res, opts.dashboardToken, guard, 'dashboard');
  if (await routeApi(site, req, res, path)) return;
  const pages = {
    engine: opts.engine,
    token: opts.dashboardToken,
    ...(opts.history ? { history: opts.history } : {}),
    ...(opts.historyPage ? { historyPage: opts.historyPage } : {}),
    ...(opts.refreshMs ? { refreshMs: opts.refreshMs } : {}),
    ...(opts.labelOf ? { labelOf: opts.labelOf } : {}),
    adminToken: opts.adminToken,
    sessions,
    now,
  };
  if (await dashboard(req, res, pages)) return;
  throw new HttpError(404, `no route for ${path}`);
}

/** GET /healthz: the components, and 503 while the store cannot be written. */
function sendHealth({ opts, now, started }: Site, res: ServerResponse): void {
  const store = opts.engine.reads.storeHealth();
  const stopped = opts.engine.reads.unavailable();
  sendJson(res, store.ok ? 200 : 503, {
    ok: store.ok,
    uptime_s: Math.round((now() - started) / 1000),
    components: { ...opts.components, store: store.ok ? (opts.components?.store ?? 'ok') : 'failing' },
    ...(store.ok ? {} : { store_problem: store.reason }),
    ...(stopped.length ? { stopped_queues: stopped } : {}),
    ...(opts.replica ? { replica: opts.replica() } : {}),
  });
}

/** The JSON API: queues, one queue, a queue's history, a run's log. */
async function routeApi({ opts }: Site, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const runs: RunsApiOptions = { engine: opts.engine, runLog: opts.runLog, historyPage: opts.historyPage };
  const log = /^\/api\/runs\/([^/]+)\/log$/.exec(path);
  const history = /^\/api\/queues\/([^/]+)\/history$/.exec(path);
  if (log) await sendRunLog(res, decodeSegment(log[1]!), runs);
  else if (history) await sendHistoryPage(req, res, decodeSegment(history[1]!), runs);
  else if (path === '/api/queues') sendJson(res, 200, (await opts.engine.reads.all()).map(queueSummary));
  else if (path.startsWith('/api/queues/'))
    await sendQueue(opts.engine, res, decodeSegment(path.slice('/api/queues/'.length)));
  else return false;
  return true;
}

/** GET /api/queues/:name: one queue, or 404 that says where the list is. */
async function sendQueue(engine: Engine, res: ServerResponse, name: string): Promise<void> {
  const queues = await engine.reads.queues();
  if (!queues.includes(name))
    throw new HttpError(404, `no queue named ${JSON.stringify(name)}; GET /api/queues lists them`);
  const file = await engine.reads.queue(name);
  if (!file) throw new HttpError(404, `no queue named ${JSON.stringify(name)}`);
  sendJson(res, 200, queueDetail(file));
}
