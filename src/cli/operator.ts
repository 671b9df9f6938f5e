// `ost-gate pause|resume <queue>` and `ost-gate retry|dequeue|not-culprit|priority|enqueue <change-id>`: the
// operator's commands, sent to a running server's admin API (OST_ADMIN_TOKEN) at --url or OST_URL.
// Exit 0 when the command was done, 1 when it was refused or failed, 2 for a usage error.
import { QUEUE_VERBS, type CommandVerb } from '../core/index.ts';
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';
import { callServer, serverBase } from './server-api.ts';

export const operatorHelp = `Usage: ost-gate pause|resume <queue> [--url URL]
       ost-gate retry|dequeue|not-culprit|priority|enqueue <change-id> [--queue NAME] [--url URL]

Sends the command to a running server's admin API, as /ost <verb> on the code host would.
enqueue needs the code host: only it can say what a merged change no queue has is (its branch, its
commit), so comment /ost enqueue on the change itself; from here, enqueue only says whether a queue
already has the change.
  --url URL      the server (default: OST_URL, or http://127.0.0.1:3000)
  --queue NAME   the change's queue (default: the queue the server says holds it)
Environment: OST_ADMIN_TOKEN (required; the server's token), OST_DASHBOARD_TOKEN (to look a change up
when the dashboard needs a token).
`;

/** The queue that holds `change`, asked of the server's queue API. */
async function queueOf(base: string, change: string, dashboardToken: string | undefined): Promise<string | null> {
  const headers: Record<string, string> = dashboardToken ? { authorization: `Bearer ${dashboardToken}` } : {};
  const list = await callServer(`${base}/api/queues`, { headers });
  if (list.status !== 200 || !Array.isArray(list.body)) return null;
  for (const q of list.body as { name: string }[]) {
    const detail = await callServer(`${base}/api/queues/${encodeURIComponent(q.name)}`, { headers });
    const changes = (detail.body.changes ?? []) as { id: string }[];
    if (changes.some((c) => c.id === change)) return q.name;
  }
  return null;
}

export async function runOperatorCommand(
  verb: CommandVerb,
  argv: string[],
  out: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const parsed = parseCommand(
    verb,
    argv,
    { options: { url: { type: 'string' }, queue: { type: 'string' } }, usage: operatorHelp, positionals: true },
    out,
  );
  if (!parsed) return 0;
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length)
    throw new UsageError(`${verb} takes one ${QUEUE_VERBS.includes(verb) ? 'queue' : 'change id'}\n\n${operatorHelp}`);
  const token = env.OST_ADMIN_TOKEN;
  if (!token) throw new UsageError('OST_ADMIN_TOKEN is not set: give the token the server was started with');
  const base = serverBase(parsed.values.url, env);
  const onQueue = QUEUE_VERBS.includes(verb);
  const queue = onQueue ? target : (parsed.values.queue ?? (await queueOf(base, target, env.OST_DASHBOARD_TOKEN)));
  if (!queue) {
    out(`ost-gate: no queue at ${base} holds ${target} (give --queue NAME if the change was pruned from its queue)`);
    return 1;
  }
  const answer = await callServer(`${base}/api/queues/${encodeURIComponent(queue)}/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(onQueue ? { verb } : { verb, change: target }),
  });
  out(answer.body.message ?? answer.body.error ?? `the server answered ${answer.status}`);
  return answer.status === 200 && answer.body.ok ? 0 : 1;
}
