// The one source of the queue settings' defaults (the repo config and the simulator take theirs from here), and the empty state of a new queue.
import { STRATEGY_NAMES } from './strategies/index.ts';
import type { QueueSettings, QueueState } from './types.ts';

const HOUR = 3_600_000;

export const defaultSettings: Readonly<QueueSettings> = Object.freeze({
  maxParallel: 2,
  timeoutMs: 3 * HOUR,
  retries: 2,
  batchMaxSize: 20,
  batchMaxInFlight: 1,
  speculate: false,
  holdShare: 0.4,
  searchWidth: 0,
  awaitRevert: true,
  revertAware: true,
  recheckMs: 2 * HOUR,
  confirm: 1,
  strategy: STRATEGY_NAMES[0],
  confidence: 0.999,
  dependencyTimeoutMs: 24 * HOUR,
  gapTimeoutMs: 10 * 60_000,
});

/**
 * `ci.use_idle_runners`: spend runners the search does not need on speed, as ost-gate did by
 * default before: batches as runners allow, new changes tested while a failure is searched, and no
 * lone change kept waiting. At the reference point its p90 time to verdict is about 0.65 T
 * shorter, for about 0.37 more runs per change (README, "Benchmark").
 */
export const idleRunnerSettings: Readonly<BatchSettings> = Object.freeze({
  batchMaxInFlight: 0,
  speculate: true,
  holdShare: 0,
});

/** The settings of how new changes are batched, whose defaults `ci.use_idle_runners` changes. */
export type BatchSettings = Pick<QueueSettings, 'batchMaxInFlight' | 'speculate' | 'holdShare'>;

/** The batch settings given, and for the others the defaults (or `ci.use_idle_runners`'s, when asked). */
export function batchSettings(
  useIdleRunners: boolean,
  given: { [K in keyof BatchSettings]?: BatchSettings[K] | undefined },
): BatchSettings {
  const preset = useIdleRunners ? idleRunnerSettings : defaultSettings;
  return {
    batchMaxInFlight: given.batchMaxInFlight ?? preset.batchMaxInFlight,
    speculate: given.speculate ?? preset.speculate,
    holdShare: given.holdShare ?? preset.holdShare,
  };
}

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
