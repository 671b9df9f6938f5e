// The HTTP server of `ost-gate serve`: dashboard, JSON API, CI callback, health; other handlers
// (GitHub webhooks, Gerrit events) are mounted by path prefix.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Engine } from '../engine/engine.ts';
import type { Logger } from '../log.ts';
import { handleCallback } from './callback.ts';
import { checkToken, dashboard } from './dashboard/routes.ts';
import type { Metrics } from './metrics.ts';
import type { VerdictRecord } from '../core/index.ts';
import { HttpError, sendError, sendJson } from '../http/body.ts';
import { queueDetail, queueSummary } from './views.ts';

export type Mount = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

export interface ServerOptions {
  engine: Engine;
  log: Logger;
  callbackSecret?: string | undefined;
  now?: () => number;
  /** Extra handlers tried first; each returns true when it handled the request. */
  mounts?: Mount[];
  /** Reported by /healthz. */
  components?: Record<string, string>;
  metrics?: Metrics;
  history?: (queue: string, limit: number) => Promise<VerdictRecord[]>;
  /** OST_DASHBOARD_TOKEN: required for the dashboard and the queue API when set. */
  dashboardToken?: string | undefined;
  /** How often the dashboard polls for changes, ms. */
  refreshMs?: number;
}

const DELIVERY_SOURCES: Record<string, string> = {
  '/api/github/webhooks': 'github',
  '/gerrit/events': 'gerrit',
  '/api/ci/callback': 'ci-callback',
};

export function createHttpServer(opts: ServerOptions): Server {
  const now = opts.now ?? Date.now;
  const started = now();
  return createServer((req, res) => {
    const source = DELIVERY_SOURCES[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (source && opts.metrics)
      res.once('finish', () =>
        opts.metrics!.deliveries.inc({ source, result: res.statusCode < 400 ? 'accepted' : String(res.statusCode) }),
      );
    void route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(res, err.status, err.message);
      opts.log.error({ err: (err as Error).message, url: req.url }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'internal error; see the server log');
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const mount of opts.mounts ?? []) if (await mount(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/api/ci/callback') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      return handleCallback(req, res, opts.engine, opts.callbackSecret, opts.log, now);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'read-only endpoint: use GET');
    if (path === '/metrics' && opts.metrics) {
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType });
      res.end(await opts.metrics.registry.metrics());
      return;
    }
    if (path !== '/healthz') checkToken(req, res, opts.dashboardToken);
    if (path === '/healthz')
      return sendJson(res, 200, {
        ok: true,
        uptime_s: Math.round((now() - started) / 1000),
        components: opts.components ?? {},
      });
    if (path === '/api/queues') {
      const files = await Promise.all((await opts.engine.queues()).map((q) => opts.engine.read(q)));
      return sendJson(
        res,
        200,
        files.flatMap((f) => (f ? [queueSummary(f)] : [])),
      );
    }
    if (path.startsWith('/api/queues/')) {
      const name = decodeURIComponent(path.slice('/api/queues/'.length));
      const queues = await opts.engine.queues();
      if (!queues.includes(name))
        throw new HttpError(404, `no queue named ${JSON.stringify(name)}; GET /api/queues lists them`);
      const file = await opts.engine.read(name);
      if (!file) throw new HttpError(404, `no queue named ${JSON.stringify(name)}`);
      return sendJson(res, 200, queueDetail(file));
    }
    if (
      await dashboard(req, res, {
        engine: opts.engine,
        token: opts.dashboardToken,
        ...(opts.history ? { history: opts.history } : {}),
        ...(opts.refreshMs ? { refreshMs: opts.refreshMs } : {}),
        now,
      })
    )
      return;
    throw new HttpError(404, `no route for ${path}`);
  }
}
