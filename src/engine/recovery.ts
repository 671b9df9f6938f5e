// Starting the queues after a restart: the damaged files are reported and left alone, every pending
// effect is performed again, and the dispatchers pick up the runs that were in flight, a few queues
// at a time.
import pLimit from 'p-limit';
import type { Logger } from '../log.ts';
import type { QueueFile, Store } from '../store/types.ts';
import type { DispatchContext, Performer } from './effects.ts';
import type { Outbox } from './outbox.ts';
import type { QueueFiles } from './queue-files.ts';

/** Queues recovered at once: their effects and resumed runs wait on the network, not on this process. */
const RECOVERED_AT_ONCE = 8;

export interface Recovery {
  store: Store;
  files: QueueFiles;
  outbox: Outbox;
  performer: Performer;
  log: Logger;
  context: (queue: string, file: QueueFile) => DispatchContext;
  /** Only these queues (a replica taking them over); every stored queue when absent. */
  only?: string[] | undefined;
}

/** Recovers every queue the store lists (or `only`); a queue that cannot be read is logged, and the others go on. */
export async function recoverQueues(deps: Recovery): Promise<void> {
  const { store, files, outbox, log } = deps;
  const damaged = (await store.unreadableFiles?.()) ?? [];
  files.noteDamaged(damaged);
  for (const bad of damaged)
    log.error(
      { file: bad.file, reason: bad.reason },
      `queue file ${bad.file} cannot be read (${bad.reason}): its queue is not started and the file is left ` +
        'as it is; restore it from a backup, or move it away to start that queue afresh',
    );
  // several queues at a time: a replica taking a dead one's queues over writes them sooner
  const limit = pLimit(RECOVERED_AT_ONCE);
  const queues = deps.only ?? (await store.listQueues());
  await Promise.all(
    queues.map((queue) =>
      limit(async () => {
        let file: QueueFile | null;
        try {
          await outbox.drain(queue);
          file = await files.get(queue);
        } catch (err) {
          // a queue whose file cannot be read stays as it is, untouched; the other queues go on
          const why = (err as Error).message;
          return log.error({ queue, err: why }, `queue ${queue} not started: ${why}`);
        }
        if (file) await resumeRuns(deps, deps.context(queue, file));
      }),
    ),
  );
}

/** Lets the performer pick up each run that was dispatched or running when the process stopped. */
async function resumeRuns(deps: Recovery, ctx: DispatchContext): Promise<void> {
  for (const run of Object.values(ctx.file.state.runs)) {
    if (run.state !== 'dispatched' && run.state !== 'running') continue;
    try {
      await deps.performer.resume(run, ctx);
    } catch (err) {
      deps.log.error({ queue: ctx.queue, key: run.key, err: (err as Error).message }, 'could not resume run');
    }
  }
}
