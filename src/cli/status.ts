// `ost-gate status`: every queue's state, read from the data directory, for a terminal.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readQueue } from '../engine/replay.ts';
import { LowdbStore } from '../store/lowdb-store.ts';
import { queueDetail } from '../web/views.ts';
import { SetupError } from '../config/setup-error.ts';
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';
import { callServer, serverBase } from './server-api.ts';

export const statusHelp = `Usage: ost-gate status [--data-dir DIR | --url URL] [--json]

Prints every queue's state, read from the server's data directory (it may be running), or asked of a
running server's API with --url (or OST_URL).
  --data-dir DIR   the data directory (default: OST_DATA_DIR, or ./data)
  --url URL        a running server instead (OST_DASHBOARD_TOKEN when its dashboard needs a token)
  --json           print the queues as JSON, as GET /api/queues/:name answers
`;

export async function runStatus(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand(
    'status',
    argv,
    {
      options: {
        'data-dir': { type: 'string' },
        url: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      usage: statusHelp,
    },
    out,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.url && values['data-dir']) throw new UsageError('status: give --data-dir or --url, not both');
  const fromServer = values.url ?? (values['data-dir'] ? undefined : process.env.OST_URL);
  const { details, where } = fromServer ? await fromApi(fromServer) : await fromDataDir(values['data-dir']);
  if (values.json) {
    out(JSON.stringify(details, null, 2));
    return 0;
  }
  if (details.length === 0) out(`no queues in ${where}`);
  for (const q of details) {
    out(
      `queue ${q.name}: ${q.paused ? `PAUSED (${q.paused.reason})` : 'running'}, ${q.depth} change(s) waiting, ` +
        `${q.runs_in_flight} run(s) in flight, CI ${q.ci ?? 'not configured'}`,
    );
    for (const b of q.broken) out(`  broken: ${b.stream} by ${b.culprit}`);
    for (const r of q.runs.filter((r) => r.state === 'dispatched' || r.state === 'running'))
      out(`  run ${r.key} (${r.kind}) up to ${r.end}: ${r.state}${r.url ? ` ${r.url}` : ''}`);
    for (const c of q.changes.filter((c) => !['passed', 'skipped'].includes(c.state)).slice(-20))
      out(`  ${c.state.padEnd(8)} ${c.id} ${c.title}${c.culprit ? ` (culprit ${c.culprit})` : ''}`);
    const passed = q.changes.filter((c) => c.state === 'passed').length;
    if (passed) out(`  ${passed} change(s) passed recently`);
  }
  return 0;
}

type Detail = ReturnType<typeof queueDetail>;

async function fromDataDir(given: string | undefined): Promise<{ details: Detail[]; where: string }> {
  const dir = resolve(given ?? process.env.OST_DATA_DIR ?? './data');
  const setting = given ? '--data-dir' : 'OST_DATA_DIR';
  const found = await stat(dir).catch(() => null);
  if (!found?.isDirectory())
    throw new SetupError(`${setting}=${dir} is not a directory: point it at the server's data directory`);
  const store = new LowdbStore(dir, { readOnly: true });
  const details: Detail[] = [];
  for (const n of await store.listQueues()) {
    const file = await readQueue(store, n);
    if (file) details.push(queueDetail(file));
  }
  return { details, where: dir };
}

async function fromApi(url: string): Promise<{ details: Detail[]; where: string }> {
  const base = serverBase(url, process.env);
  const token = process.env.OST_DASHBOARD_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const ask = async (path: string) => {
    const answer = await callServer(`${base}${path}`, { headers });
    if (answer.status !== 200)
      throw new SetupError(
        `the server at ${base} answered ${answer.status} for ${path}: ${answer.body.error ?? ''}`.trim() +
          (answer.status === 401 ? ' (set OST_DASHBOARD_TOKEN)' : ''),
      );
    return answer.body as unknown;
  };
  const list = (await ask('/api/queues')) as { name: string }[];
  const details: Detail[] = [];
  for (const q of list) details.push((await ask(`/api/queues/${encodeURIComponent(q.name)}`)) as Detail);
  return { details, where: base };
}
