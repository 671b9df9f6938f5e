// The answer to `/ost status`, the same on every host: where a change is — queued, under test in
// which run, or its verdict — with links; for an open change, its tries.
import { heldChange, type Run } from '../core/index.ts';
import type { QueueView } from '../store/types.ts';
import { code, link, strong, joined, type Block, type Doc, type Inline } from './doc.ts';
import { changePageUrl, runRef } from './model.ts';

export interface StatusOptions {
  /** The server's public URL, for a link to the change's dashboard page. */
  publicUrl?: string | undefined;
  /** For a change no queue has (an open one): its tries, from `triesOf`. */
  tries?: TryStatus[];
}

/** One `/ost try` of an open change, as a queue holds it: waiting for a runner, or its run. */
export interface TryStatus {
  queue: string;
  by: string;
  requestedAt: number;
  /** Absent while the request waits for an idle runner. */
  run?: Pick<Run, 'key' | 'url' | 'state'>;
}

/** The tries of open change `id` in every queue, oldest first (ended runs only while the queue keeps them). */
export function triesOf(files: readonly QueueView[], id: string): TryStatus[] {
  const out: TryStatus[] = [];
  for (const file of files) {
    const queue = file.state.name;
    for (const run of Object.values(file.state.runs))
      if (run.kind === 'try' && run.try?.change === id)
        out.push({ queue, by: run.try.by, requestedAt: run.try.requestedAt, run });
    for (const t of file.state.tries ?? [])
      if (t.change === id) out.push({ queue, by: t.by, requestedAt: t.requestedAt });
  }
  return out.sort((a, b) => a.requestedAt - b.requestedAt);
}

const TRY_STATES: Record<Run['state'], string> = {
  dispatched: 'under test',
  running: 'under test',
  passed: 'passed',
  failed: 'failed',
  error: 'ended with no result (an infra error)',
  'timed-out': 'ended with no result (timed out)',
  cancelled: 'cancelled',
};

function tryLine(t: TryStatus): Inline[] {
  const asked: Inline[] = [` (asked by ${t.by} at ${new Date(t.requestedAt).toISOString()})`];
  if (!t.run) return ['A try waits for an idle runner in queue ', code(t.queue), ...asked, '.'];
  const run: Inline = { run: { key: t.run.key, url: t.run.url ?? null } };
  return ['A try in queue ', code(t.queue), ': run ', run, ` ${TRY_STATES[t.run.state]}`, ...asked, '.'];
}

/** Where change `id` is in `queue`; `file` is null when no queue knows it. */
export function statusDoc(queue: string | null, file: QueueView | null, id: string, opts: StatusOptions = {}): Doc {
  if (!queue || !file) {
    const tries = opts.tries ?? [];
    if (tries.length > 0)
      return [
        { para: [code(id), ' is in no ost-gate queue (', code('/ost try'), ' runs an open change once):'] },
        ...tries.map((t): Block => ({ para: tryLine(t) })),
      ];
    return [
      {
        para: [
          code(id),
          ' is not in any ost-gate queue. ',
          code('/ost enqueue'),
          ' adds a merged change that was missed; on an open change, ',
          code('/ost try'),
          ' runs it once before it merges.',
        ],
      },
    ];
  }
  const doc: Doc = [{ para: whereIs(queue, file, id) }];
  if (opts.publicUrl) doc.push({ para: [link('Details on the dashboard', changePageUrl(opts.publicUrl, id))] });
  return doc;
}

function whereIs(queue: string, file: QueueView, id: string): Inline[] {
  const change = Object.hasOwn(file.state.changes, id) ? file.state.changes[id] : undefined;
  const inQueue: Inline[] = [' in queue ', code(queue)];
  if (!change) return [code(id), ' has its verdict; it is in the history of queue ', code(queue), '.'];
  if (change.state === 'done') {
    const v = [...file.state.verdicts].reverse().find((x) => x.change === id && !x.retracted);
    return [
      'ost-gate: ',
      strong(change.verdict ?? 'done'),
      ...(change.culprit ? [' (culprit ', code(change.culprit), ')'] : []),
      ...inQueue,
      ...(v?.run ? [', decided on run ', code(v.run)] : []),
      '.',
    ];
  }
  const runs = Object.values(file.state.runs).filter(
    (r) => (r.state === 'dispatched' || r.state === 'running') && r.changes.includes(id),
  );
  const held = heldChange(file.state);
  const where: Inline[] = runs.length
    ? ['under test in ', ...joined(runs.map((r) => ({ run: runRef(r) })))]
    : held?.id === id
      ? [
          `waiting for a second change to share its run, until ${new Date(held.until).toISOString()} at the latest (`,
          code('batch.hold'),
          ')',
        ]
      : [change.state === 'waiting' ? 'waiting for a dependency' : 'queued for the next run'];
  const paused: Inline[] = file.state.paused ? [` The queue is paused: ${file.state.paused.reason}.`] : [];
  const early: Inline[] = change.passedEarly
    ? [
        ' It passed provisionally: run ',
        code(change.passedEarly),
        ' failed only in tests known to flake (',
        code('flaky.early_pass'),
        '), and another run makes sure.',
      ]
    : [];
  return ['ost-gate: ', code(id), ' is ', ...where, ...inQueue, '.', ...early, ...paused];
}
