// Chat rooms the server config declares under `channels:`: a Slack incoming webhook, or a Matrix
// room written to through the client-server API. A message is the subject line and the document of a
// mail (message.ts), as plain text (Slack links what it recognises) or as Matrix's plain body with an
// HTML one. What the service calls temporary (a 429, with its Retry-After; a 5xx; no answer) is
// thrown, and the outbox tries again; what it refuses for good (any other 4xx) is returned. Matrix
// takes the outbox entry's key as its transaction id, so a message sent again after a crash is not
// a second message; a Slack webhook has no such id: delivery there is at least once. Logs name a
// channel and its room, never a webhook URL or a token.
import html from 'html-template-tag';
import { fetchWithTimeout } from '../http/fetch.ts';
import type { ChannelSettings } from './config.ts';
import { SetupError } from '../config/setup-error.ts';

export interface ChatMessage {
  subject: string;
  text: string;
  html: string;
}

/** What became of a message the service answered: sent, or refused for good with its answer. */
export type ChatResult = { sent: true } | { sent: false; permanent: string };

/** An error worth another try, after `retryAfterMs` when the service said how long to wait. */
export class TryAgainError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ChatRoom {
  /** `slack channel infra-chat`, `matrix room !id:example.org on matrix.example.org`. */
  readonly label: string;
  send(message: ChatMessage, txnId: string): Promise<ChatResult>;
}

/** The wait a 429 asks for: the Retry-After header in seconds, or Matrix's `retry_after_ms`. */
function retryAfter(res: Response, body: string): number | undefined {
  const header = Number(res.headers.get('retry-after'));
  if (header > 0) return header * 1000;
  try {
    const ms = (JSON.parse(body) as { retry_after_ms?: unknown }).retry_after_ms;
    return typeof ms === 'number' && ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of an answer: sent (2xx), refused for good (4xx but 429), or thrown to be tried again. */
async function outcome(label: string, res: Response): Promise<ChatResult> {
  const body = (await res.text()).slice(0, 300);
  if (res.ok) return { sent: true };
  if (res.status === 429 || res.status >= 500)
    throw new TryAgainError(`${label}: ${res.status} ${body}`, retryAfter(res, body));
  return { sent: false, permanent: `${res.status} ${body}` };
}

/** Sends, and turns a request that got no answer into an error that names the room only. */
async function request(label: string, url: string, init: RequestInit): Promise<ChatResult> {
  let res: Response;
  try {
    res = await fetchWithTimeout(url, init);
  } catch (err) {
    throw new TryAgainError(`${label}: no answer (${(err as Error).name})`);
  }
  return outcome(label, res);
}

class SlackWebhook implements ChatRoom {
  readonly label: string;
  constructor(
    name: string,
    private readonly url: string,
  ) {
    this.label = `slack channel ${name}`;
  }

  send(message: ChatMessage): Promise<ChatResult> {
    return request(this.label, this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `*${message.subject}*\n${message.text}` }),
    });
  }
}

class MatrixRoom implements ChatRoom {
  readonly label: string;
  constructor(
    private readonly settings: { homeserver: string; room: string },
    private readonly token: string,
  ) {
    this.label = `matrix room ${settings.room} on ${new URL(settings.homeserver).host}`;
  }

  send(message: ChatMessage, txnId: string): Promise<ChatResult> {
    const base = this.settings.homeserver.replace(/\/+$/, '');
    const url = `${base}/_matrix/client/v3/rooms/${encodeURIComponent(this.settings.room)}/send/m.room.message/${encodeURIComponent(txnId)}`;
    return request(this.label, url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({
        msgtype: 'm.notice',
        body: `${message.subject}\n${message.text}`,
        format: 'org.matrix.custom.html',
        formatted_body: `${html`<p><strong>${message.subject}</strong></p>`}${message.html}`,
      }),
    });
  }
}

/** The rooms of `channels:`, their secrets read from the variables named; a missing one stops the start. */
export function chatRooms(channels: Record<string, ChannelSettings>, env: NodeJS.ProcessEnv): Record<string, ChatRoom> {
  const rooms: Record<string, ChatRoom> = {};
  for (const [name, c] of Object.entries(channels)) {
    const variable = 'slack' in c ? c.slack.url_env : c.matrix.token_env;
    const secret = env[variable];
    if (!secret)
      throw new SetupError(
        `channels.${name} names ${variable}, which is not set: set it to the ${'slack' in c ? 'Slack incoming webhook URL' : 'Matrix access token'}`,
      );
    rooms[name] = 'slack' in c ? new SlackWebhook(name, secret) : new MatrixRoom(c.matrix, secret);
  }
  return rooms;
}
