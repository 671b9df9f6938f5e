// The answer to `/ost status`, the same on every host: where a change is — queued, under test in
// which run, or its verdict — with links.
import { heldChange } from '../core/index.ts';
import type { QueueView } from '../store/types.ts';
import { code, link, strong, joined, type Doc, type Inline } from './doc.ts';
import { changePageUrl, runRef } from './model.ts';

export interface StatusOptions {
  /** The server's public URL, for a link to the change's dashboard page. */
  publicUrl?: string | undefined;
}

/** Where change `id` is in `queue`; `file` is null when no queue knows it. */
export function statusDoc(queue: string | null, file: QueueView | null, id: string, opts: StatusOptions = {}): Doc {
  if (!queue || !file) {
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
  return ['ost-gate: ', code(id), ' is ', ...where, ...inQueue, '.', ...paused];
}
