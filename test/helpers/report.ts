// Verdict read models for reporter tests: a queue file holding the change, and the report the engine
// would build from it.
import { emptyQueue, type ChangeRecord, type VerdictRecord } from '../../src/core/index.ts';

import { buildVerdictReport, type ChangeLabeler, type VerdictReport } from '../../src/report/model.ts';
import type { QueueFile } from '../../src/store/types.ts';
import { configRules } from '../../src/registry.ts';

export function queueFile(queue: string, changes: ChangeRecord[] = [], repoConfig?: string): QueueFile {
  const state = emptyQueue(queue);
  for (const c of changes) state.changes[c.id] = c;
  return {
    schema: 1,
    name: queue,
    state,
    outbox: [],
    notices: [],
    deliveries: [],
    historyMoved: 0,
    ...(repoConfig ? { repoConfig: configRules.parseRepo(repoConfig) } : {}),
  };
}

/** The report of `verdict` on `change`, in a queue whose repo config is `repoConfig` (YAML). */
export function reportOf(
  queue: string,
  change: ChangeRecord,
  verdict: VerdictRecord,
  repoConfig: string,
  labelOf?: ChangeLabeler,
): VerdictReport {
  return buildVerdictReport(queue, queueFile(queue, [change], repoConfig), verdict, labelOf ? { labelOf } : {});
}
