// Dashboard routes: overview, queue, change and search pages, read-only, behind OST_DASHBOARD_TOKEN when set.
import type { IncomingMessage, ServerResponse } from 'node:http';
import html from 'html-template-tag';
import type { VerdictRecord } from '../../core/index.ts';
import type { Engine } from '../../engine/engine.ts';
import type { QueueView } from '../../store/types.ts';
import { bearerToken, decodeSegment, HttpError } from '../../http/body.ts';
import { readCookie, setCookie } from '../cookies.ts';
import { pageQuery, type RunsApiOptions } from '../runs-api.ts';
import { sessionBar, type AdminView } from './actions.ts';
import type { AdminSessions } from '../sessions.ts';
import type { TokenGuard, TokenKind } from '../token-guard.ts';
import { changePage } from './change-page.ts';
import { historyPage } from './history-page.ts';
import { changeLabel, changeLink, changePath } from './format.ts';
import { page } from './layout.ts';
import { overview } from './overview.ts';
import { queuePage } from './queue-page.ts';
import { trendsPage } from './trends-page.ts';
import { DEFAULT_SPAN, isSpan, SPANS } from '../../engine/trends.ts';
import { defaultLabel, type ChangeLabeler } from '../../report/model.ts';

export interface DashboardOptions {
  engine: Engine;
  history?: (queue: string, limit: number) => Promise<VerdictRecord[]>;
  historyPage?: RunsApiOptions['historyPage'];
  token?: string | undefined;
  refreshMs?: number;
  now?: () => number;
  /** How each change is labelled (`#12` on GitHub, `change 12` on Gerrit); the hosts say. */
  labelOf?: ChangeLabeler;
  /** OST_ADMIN_TOKEN: set, the operator may sign in for the buttons. */
  adminToken?: string | undefined;
  /** The operators' sessions (sign-in.ts). */
  sessions?: AdminSessions;
}

/** The operator's view of a page: only in a signed-in session, with its CSRF token and one-time message. */
function adminView(req: IncomingMessage, opts: DashboardOptions): AdminView | undefined {
  if (!opts.adminToken || !opts.sessions) return undefined;
  const session = opts.sessions.get(req);
  if (!session) return undefined;
  // a partial refresh does not take the message: the page shows it until it is loaded anew
  const said = req.headers['x-ost-partial'] ? session.flash : opts.sessions.takeFlash(session);
  return { csrf: session.csrf, said };
}

/**
 * Throws 401 unless the request carries the dashboard token (query, cookie or Bearer), and 429 after
 * too many wrong ones from its address; remembers a query token in a cookie.
 */
export async function checkToken(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  guard: TokenGuard,
  kind: TokenKind,
): Promise<void> {
  if (!token) return;
  const fromQuery = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  const given = fromQuery ?? readCookie(req, TOKEN_COOKIE) ?? bearerToken(req);
  if (!(await guard.verify(req, kind, { expected: token, given }))) {
    throw new HttpError(
      401,
      kind === 'metrics'
        ? 'this endpoint needs a token: send Authorization: Bearer <OST_METRICS_TOKEN>'
        : 'this dashboard needs a token: open it with ?token=<OST_DASHBOARD_TOKEN>',
    );
  }
  if (fromQuery) setCookie(req, res, { name: TOKEN_COOKIE, value: fromQuery });
}

/** The cookie that keeps the dashboard token a page was opened with. */
const TOKEN_COOKIE = 'ost_token';

/** Sends a page, with the operator's sign-in or sign-out above its content. */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  content: { title: string; body: string },
  opts: DashboardOptions,
  admin: AdminView | undefined,
): void {
  const { title, body } = content;
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const bar = sessionBar(admin, !!opts.adminToken, path);
  const main = bar ? html`<div class="session">$${bar}</div>$${body}` : body;
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(req.headers['x-ost-partial'] ? main : page(main, { title, refreshMs: opts.refreshMs ?? 5000 }));
}

/** What a page is built from: the request, the time, how changes are labelled, and the operator's view. */
interface PageRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  path: string;
  now: number;
  labelOf: ChangeLabeler;
  admin: AdminView | undefined;
  opts: DashboardOptions;
}

/** Handles the dashboard's pages; returns false for other paths. */
export async function dashboard(req: IncomingMessage, res: ServerResponse, opts: DashboardOptions): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (url.searchParams.has('admin')) {
    // the admin token never stays in an address: the operator signs in instead
    res.writeHead(303, {
      location: `/admin/sign-in?${new URLSearchParams({ back: path })}`,
      'cache-control': 'no-store',
    });
    res.end();
    return true;
  }
  const now = (opts.now ?? Date.now)();
  const labelOf = opts.labelOf ?? defaultLabel;
  const page: PageRequest = { req, res, url, path, now, labelOf, admin: adminView(req, opts), opts };
  if (path === '/') {
    const body = overview(await opts.engine.reads.all(), now, labelOf, opts.engine.reads.unavailable());
    send(req, res, { title: 'Queues', body }, opts, page.admin);
    return true;
  }
  const older = /^\/queues\/([^/]+)\/history$/.exec(path);
  if (older) return olderVerdicts(page, decodeSegment(older[1]!));
  const trends = /^\/queues\/([^/]+)\/trends$/.exec(path);
  if (trends) return trendsRoute(page, decodeSegment(trends[1]!));
  if (path.startsWith('/queues/')) return queueRoute(page, decodeSegment(path.slice('/queues/'.length)));
  if (path.startsWith('/changes/')) return changeRoute(page, decodeSegment(path.slice('/changes/'.length)));
  if (path === '/search') return searchRoute(page);
  return false;
}

/** The queue named, or 404. */
async function knownQueue(engine: Engine, name: string): Promise<QueueView> {
  if (!(await engine.reads.queues()).includes(name)) throw new HttpError(404, `no queue named ${JSON.stringify(name)}`);
  return (await engine.reads.queue(name))!;
}

/** /queues/:name/history: a page of a queue's older verdicts. */
async function olderVerdicts({ req, res, url, labelOf, admin, opts }: PageRequest, name: string): Promise<boolean> {
  const file = await knownQueue(opts.engine, name);
  const { before, limit } = pageQuery(url);
  const found = opts.historyPage ? await opts.historyPage(name, before, limit) : { verdicts: [], more: false };
  send(req, res, { title: `${name}: older verdicts`, body: historyPage(file, found, labelOf) }, opts, admin);
  return true;
}

/** /queues/:name/trends?span=7d|30d|1y: a queue's charts over time. */
async function trendsRoute({ req, res, url, now, admin, opts }: PageRequest, name: string): Promise<boolean> {
  const file = await knownQueue(opts.engine, name);
  const span = url.searchParams.get('span') ?? DEFAULT_SPAN;
  if (!isSpan(span))
    throw new HttpError(400, `span must be one of ${Object.keys(SPANS).join(', ')}, got ${JSON.stringify(span)}`);
  send(req, res, { title: `${name}: trends`, body: trendsPage(file, now, span) }, opts, admin);
  return true;
}

/** /queues/:name: a queue's page. */
async function queueRoute({ req, res, now, labelOf, admin, opts }: PageRequest, name: string): Promise<boolean> {
  const body = queuePage(await knownQueue(opts.engine, name), now, labelOf, admin);
  send(req, res, { title: name, body }, opts, admin);
  return true;
}

/** /changes/:id: a change's page, from the queue that holds it or its history. */
async function changeRoute({ req, res, labelOf, admin, opts }: PageRequest, id: string): Promise<boolean> {
  for (const file of await opts.engine.reads.all()) {
    const history = opts.history ? await opts.history(file.name, 2000) : [];
    if (
      Object.hasOwn(file.state.changes, id) ||
      history.some((v) => v.change === id) ||
      file.state.verdicts.some((v) => v.change === id)
    ) {
      send(req, res, { title: id, body: changePage(id, file, history, labelOf, admin) }, opts, admin);
      return true;
    }
  }
  throw new HttpError(404, `no queue knows change ${JSON.stringify(id)}`);
}

/** /search?q=: the change with that id, number or sha (straight to its page when one matches). */
async function searchRoute({ req, res, url, labelOf, admin, opts }: PageRequest): Promise<boolean> {
  const q = (url.searchParams.get('q') ?? '').trim().replace(/^#/, '');
  const hits: { id: string; file: QueueView }[] = [];
  if (q) {
    for (const file of await opts.engine.reads.all()) {
      for (const c of Object.values(file.state.changes)) {
        if (
          c.id === q ||
          String(c.number ?? '') === q ||
          (q.length >= 7 && c.sha.startsWith(q)) ||
          c.id.endsWith(`#${q}`) ||
          c.id.endsWith(`~${q}`)
        )
          hits.push({ id: c.id, file });
      }
    }
  }
  if (hits.length === 1) {
    res.writeHead(302, { location: changePath(hits[0]!.id) });
    res.end();
    return true;
  }
  const found = hits.length
    ? `${hits.length} changes match`
    : q
      ? 'No change matches'
      : 'Type a change id, a PR or Gerrit number, or a sha (7 characters or more)';
  const body = html`<h1>Search</h1><p>${found} ${q ? `"${q}"` : ''}.</p>
<ul>${hits.map((h) => html`<li>$${changeLink(changeLabel(h.file, h.id, labelOf), h.id)} <span class="muted">${h.file.name}</span></li>`)}
</ul>`;
  send(req, res, { title: 'Search', body }, opts, admin);
  return true;
}
