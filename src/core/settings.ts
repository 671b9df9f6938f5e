// The one source of the queue settings' defaults (the repo config and the simulator take theirs from
// here; the batch settings' from the default batching policy), and the empty state of a new queue.
import { BATCHING_NAMES, batchingPolicies } from './batching/index.ts';
import { STRATEGY_NAMES } from './strategies/index.ts';
import type { QueueSettings, QueueState } from './types.ts';

const HOUR = 3_600_000;

export const defaultSettings: Readonly<QueueSettings> = Object.freeze({
  maxParallel: 2,
  timeoutMs: 3 * HOUR,
  retries: 2,
  batchMaxSize: 20,
  batching: BATCHING_NAMES[0],
  ...batchingPolicies[BATCHING_NAMES[0]].defaults,
  searchWidth: 0,
  awaitRevert: true,
  revertAware: true,
  recheckMs: 2 * HOUR,
  confirm: 1,
  strategy: STRATEGY_NAMES[0],
  confidence: 0.999,
  dependencyTimeoutMs: 24 * HOUR,
  quarantine: 0.2,
  earlyPass: 0.8,
  gapTimeoutMs: 10 * 60_000,
  tryMaxParallel: 1,
});

/** A queue with no changes, ready for its first event. `keyPrefix` makes run keys unique across queues. */
export function emptyQueue(name: string, settings: Partial<QueueSettings> = {}, keyPrefix = name): QueueState {
  return {
    schema: 1,
    name,
    keyPrefix,
    settings: { ...defaultSettings, ...settings },
    paused: null,
    seq: 0,
    streams: {},
    changes: {},
    forgotten: [],
    active: [],
    runs: {},
    verdicts: [],
    stats: { runsFinished: 0, runsFailed: 0, flakes: 0, culprits: 0, verdicts: 0, infraRetries: 0 },
  };
}
