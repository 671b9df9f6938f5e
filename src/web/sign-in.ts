// Signing the operator in and out of the dashboard: GET /admin/sign-in shows a form for the admin
// token, POST /admin/sign-in checks it (wrong ones are rate-limited) and starts a session (its cookie,
// see sessions.ts), POST /admin/sign-out ends it. The token goes only in the POST body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import html from 'html-template-tag';
import { HttpError, readBody } from '../http/body.ts';
import type { Logger } from '../log.ts';
import { page } from './dashboard/layout.ts';
import type { AdminSessions } from './sessions.ts';
import type { TokenGuard } from './token-guard.ts';

export const SIGN_IN_PATH = '/admin/sign-in';
export const SIGN_OUT_PATH = '/admin/sign-out';
const FORM_LIMIT = 8 * 1024;

export interface SignInOptions {
  /** OST_ADMIN_TOKEN; without it there is nothing to sign in to. */
  token: string | undefined;
  sessions: AdminSessions;
  guard: TokenGuard;
  log: Logger;
}

/**
 * Where a form may send the browser back to: a dashboard page's path, nothing else (no other host, no
 * query). A value with a control character is refused with 400 before anything runs; anything else
 * that is not such a path falls back to `fallback`.
 */
export function backPath(back: string | null, fallback: string): string {
  if (back === null || back === '') return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(back)) throw new HttpError(400, 'back: a control character is not allowed in it');
  return /^\/((queues|changes)\/[^/?#\\]+(\/history)?)?$/.test(back) ? back : fallback;
}

export async function handleSignIn(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  opts: SignInOptions,
): Promise<void> {
  if (!opts.token) throw new HttpError(403, 'operator buttons are off: set OST_ADMIN_TOKEN on the server');
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (path === SIGN_OUT_PATH) {
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const form = new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
    const session = opts.sessions.get(req);
    // signing out needs the session's own form: a page elsewhere cannot sign the operator out
    if (session && !opts.sessions.csrfMatches(session, form.get('csrf')))
      throw new HttpError(403, 'this form is not from your session; reload the page and try again');
    opts.sessions.end(req, res);
    return redirect(res, backPath(form.get('back'), '/'));
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const back = backPath(url.searchParams.get('back'), '/');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page(signInForm(back, url.searchParams.has('failed')), { title: 'Sign in', refreshMs: 0 }));
    return;
  }
  if (req.method !== 'POST') throw new HttpError(405, 'use GET or POST');
  const form = new URLSearchParams((await readBody(req, FORM_LIMIT)).toString('utf8'));
  const back = backPath(form.get('back'), '/');
  if (!(await opts.guard.verify(req, 'admin', { expected: opts.token, given: form.get('token') }))) {
    return redirect(res, `${SIGN_IN_PATH}?${new URLSearchParams({ back, failed: '1' })}`);
  }
  opts.sessions.start(req, res);
  opts.log.info({ remote: req.socket.remoteAddress }, 'operator signed in to the dashboard');
  redirect(res, back);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' });
  res.end();
}

function signInForm(back: string, failed: boolean): string {
  return html`<h1>Sign in as the operator</h1>
$${failed ? html`<p class="said" role="alert">That is not the admin token.</p>` : ''}
<p>The operator's buttons (pause, resume, retry, not-culprit, dequeue) need the server's
<code>OST_ADMIN_TOKEN</code>. It is sent once, in this form; the browser keeps only a session cookie.</p>
<form method="post" action="$${SIGN_IN_PATH}"><input type="hidden" name="back" value="${back}">
<label for="token">Admin token</label> <input type="password" id="token" name="token" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`;
}
