// `ost-gate status`: every queue's state, read from the data directory, for a terminal.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readQueue } from '../engine/replay.ts';
import { LowdbStore } from '../store/lowdb-store.ts';
import { queueDetail } from '../web/views.ts';
import { SetupError } from '../config/setup-error.ts';
import { parseCommand } from './args.ts';

export const statusHelp = `Usage: ost-gate status [--data-dir DIR] [--json]

Prints every queue's state, read from the server's data directory (it may be running).
  --data-dir DIR   the data directory (default: OST_DATA_DIR, or ./data)
  --json           print the queues as JSON, as GET /api/queues/:name answers
`;

export async function runStatus(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand(
    'status',
    argv,
    { options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } }, usage: statusHelp },
    out,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const dir = resolve(values['data-dir'] ?? process.env.OST_DATA_DIR ?? './data');
  const setting = values['data-dir'] ? '--data-dir' : 'OST_DATA_DIR';
  const found = await stat(dir).catch(() => null);
  if (!found?.isDirectory())
    throw new SetupError(`${setting}=${dir} is not a directory: point it at the server's data directory`);
  const store = new LowdbStore(dir, { readOnly: true });
  const names = await store.listQueues();
  const details = [];
  for (const n of names) {
    const file = await readQueue(store, n);
    if (file) details.push(queueDetail(file));
  }
  if (values.json) {
    out(JSON.stringify(details, null, 2));
    return 0;
  }
  if (details.length === 0) out(`no queues in ${dir}`);
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
