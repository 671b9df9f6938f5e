// Stand-ins for the chat services, on 127.0.0.1, answering as their documentation says: a Slack
// incoming webhook (POST a JSON `text`; 200 `ok`; 400 invalid_payload, 404 no_service, 429 with
// Retry-After) and a Matrix homeserver's `PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}`
// (a bearer token; 200 `{ event_id }`, the same one for a transaction id sent again; 429
// M_LIMIT_EXCEEDED with `retry_after_ms`; 403 M_FORBIDDEN). `next` makes the next answers refusals.
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ChatServices {
  /** The Slack webhook URL (its path is the secret). */
  slackUrl: string;
  /** The Matrix homeserver's base URL. */
  homeserver: string;
  room: string;
  token: string;
  /** What Slack was posted, in order. */
  slack: { text: string }[];
  /** The Matrix room's events (one per transaction id), in order. */
  matrix: { txnId: string; content: Record<string, string> }[];
  /** Matrix requests, transaction ids sent again included. */
  matrixRequests: number;
  /** Status codes the next requests get instead of a success (each used once), per service. */
  next: { slack: number[]; matrix: number[] };
  close(): Promise<void>;
}

const SLACK_PATH = '/services/T000/B000/webhook-secret';
const ROOM = '!ops:example.org';
const TOKEN = 'syt_matrix_token';

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

export async function startChatServices(): Promise<ChatServices> {
  const services = {
    slack: [],
    matrix: [],
    matrixRequests: 0,
    next: { slack: [], matrix: [] },
  } as unknown as ChatServices;
  const slack = createServer(async (req, res) => {
    const text = await body(req);
    if (req.method !== 'POST' || req.url !== SLACK_PATH) return res.writeHead(404).end('no_service');
    const refusal = services.next.slack.shift();
    if (refusal === 429) return res.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
    if (refusal) return res.writeHead(refusal).end(refusal === 404 ? 'no_service' : 'invalid_payload');
    let parsed: { text?: unknown };
    try {
      parsed = JSON.parse(text) as { text?: unknown };
    } catch {
      return res.writeHead(400).end('invalid_payload');
    }
    if (typeof parsed.text !== 'string' || !parsed.text) return res.writeHead(400).end('no_text');
    services.slack.push({ text: parsed.text });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  const matrix = createServer(async (req, res) => {
    const text = await body(req);
    const json = (status: number, answer: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    const m = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/m\.room\.message\/([^/]+)$/.exec(req.url ?? '');
    if (req.method !== 'PUT' || !m) return json(404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return json(401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Invalid access token passed.' });
    services.matrixRequests++;
    const refusal = services.next.matrix.shift();
    if (refusal === 429)
      return json(429, { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 1200 });
    if (refusal) return json(refusal, { errcode: 'M_FORBIDDEN', error: 'You are not in this room.' });
    if (decodeURIComponent(m[1]!) !== ROOM) return json(403, { errcode: 'M_FORBIDDEN', error: 'Unknown room' });
    const txnId = decodeURIComponent(m[2]!);
    let index = services.matrix.findIndex((e) => e.txnId === txnId);
    if (index < 0) index = services.matrix.push({ txnId, content: JSON.parse(text) as Record<string, string> }) - 1;
    json(200, { event_id: `$event${index}` });
  });
  const slackBase = await listen(slack);
  services.slackUrl = `${slackBase}${SLACK_PATH}`;
  services.homeserver = await listen(matrix);
  services.room = ROOM;
  services.token = TOKEN;
  services.close = async () => {
    for (const s of [slack, matrix]) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  };
  return services;
}
