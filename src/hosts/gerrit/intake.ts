// POST /gerrit/events: the JSON Gerrit's webhooks plugin posts, authorised by GERRIT_EVENTS_TOKEN
// (`?token=` or a Bearer header; the plugin cannot sign), checked, and written to the inbox before the
// 202 (the plugin waits 5 s at most; handling may take longer). Without an inbox it is handled first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerToken, HttpError, parseJsonBody, readBody, sendJson } from '../../http/body.ts';
import { secretEquals } from '../../http/signature.ts';
import type { Logger } from '../../log.ts';
import { checkEvent } from './events.ts';
import type { GerritInbox } from './inbox.ts';
import type { GerritEvent } from './types.ts';

export const EVENTS_PATH = '/gerrit/events';
const EVENTS_LIMIT = 1024 * 1024;

export interface IntakeOptions {
  token: string | undefined;
  inbox: GerritInbox | null;
  /** Handles an event at once (when there is no inbox). */
  handle: (event: GerritEvent) => Promise<void>;
  log: Logger;
}

export async function receiveEvent(req: IncomingMessage, res: ServerResponse, opts: IntakeOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'POST') throw new HttpError(405, 'use POST');
  if (!opts.token) throw new HttpError(503, 'Gerrit events are disabled: set GERRIT_EVENTS_TOKEN on the server');
  if (!secretEquals(opts.token, url.searchParams.get('token') ?? bearerToken(req))) {
    opts.log.warn({ remote: req.socket.remoteAddress }, 'Gerrit event without a valid token rejected');
    throw new HttpError(401, 'missing or bad token: pass GERRIT_EVENTS_TOKEN as ?token= or as a Bearer token');
  }
  const body = await readBody(req, EVENTS_LIMIT);
  const checked = checkEvent(parseJsonBody(body, 'a Gerrit event like the webhooks plugin sends'));
  if ('problem' in checked) {
    opts.log.warn({ problem: checked.problem }, 'malformed Gerrit event refused');
    throw new HttpError(400, `not a Gerrit event ost-gate can read: ${checked.problem}`);
  }
  const { event } = checked;
  if (!opts.inbox) {
    await opts.handle(event);
    return sendJson(res, 202, { accepted: true, type: event.type });
  }
  const fresh = await opts.inbox.accept(event);
  sendJson(res, 202, { accepted: true, type: event.type, ...(fresh ? {} : { duplicate: true }) });
}
