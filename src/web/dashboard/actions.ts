// The operator's buttons on the queue and change pages, shown only to a signed-in operator (see
// web/sessions.ts). Each button is a form that POSTs to /queues/:queue/commands (admin.ts) with the
// session's CSRF token, so that a page elsewhere cannot press them.
import html from 'html-template-tag';
import type { CommandVerb } from '../../core/index.ts';
import type { QueueView } from '../../store/types.ts';
import { changePath, queuePath } from './format.ts';

/** The signed-in operator's CSRF token, and the reply of the last command (shown once). */
export interface AdminView {
  csrf: string;
  said?: string | undefined;
}

function button(admin: AdminView, queue: string, verb: CommandVerb, back: string, change?: string): string {
  return html`<form method="post" action="$${queuePath(queue)}/commands" class="action">
<input type="hidden" name="csrf" value="${admin.csrf}"><input type="hidden" name="verb" value="${verb}">
<input type="hidden" name="back" value="${back}">$${change ? html`<input type="hidden" name="change" value="${change}">` : ''}
<button type="submit">${verb}</button></form>`;
}

/** The reply of the command just run, if any. */
function said(admin: AdminView): string {
  return admin.said ? html`<p class="said" role="status">${admin.said}</p>` : '';
}

/** Pause or resume, on the queue page. */
export function queueActions(admin: AdminView | undefined, file: QueueView): string {
  if (!admin) return '';
  const name = file.state.name;
  const verb: CommandVerb = file.state.paused ? 'resume' : 'pause';
  return html`$${said(admin)}<div class="actions">$${button(admin, name, verb, queuePath(name))}</div>`;
}

/** Retry, not-culprit, priority and dequeue, on a change's page. */
export function changeActions(admin: AdminView | undefined, file: QueueView, id: string): string {
  if (!admin) return '';
  const verbs: CommandVerb[] = ['retry', 'not-culprit', 'priority', 'dequeue'];
  const buttons = verbs.map((v) => button(admin, file.state.name, v, changePath(id), id));
  return html`$${said(admin)}<div class="actions">$${buttons.join('')}</div>`;
}

/** Signed in: a sign-out button; otherwise, where the admin token is set, a link to sign in. */
export function sessionBar(admin: AdminView | undefined, signInOffered: boolean, back: string): string {
  if (admin)
    return html`<form method="post" action="/admin/sign-out" class="action"><input type="hidden" name="csrf" value="${admin.csrf}">
<input type="hidden" name="back" value="${back}"><span class="muted">signed in as the operator</span> <button type="submit">Sign out</button></form>`;
  if (!signInOffered) return '';
  return html`<a href="/admin/sign-in?back=${encodeURIComponent(back)}">Operator sign-in</a>`;
}
