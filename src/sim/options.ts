// The simulator's options (README, "Simulator reference"), its unit of time, and the queue settings
// a simulation runs with.
import { batchSettings, defaultSettings, type DispatchSpec, type QueueSettings, type Strategy } from '../core/index.ts';
import type { TraceEntry } from './trace.ts';

/** One time unit T (the length of a run) in the core's milliseconds. */
export const T = 3_600_000;

export interface SimOptions {
  changes: number;
  arrivalRate: number;
  culpritRate: number;
  flakeRate: number;
  runners: number;
  strategy: string;
  batch: number;
  seed: number;
  confirm?: number;
  confidence?: number;
  /**
   * Uneven run times: each run takes T x U(1 - s, 1 + s), drawn from its own random stream so that
   * arrivals and flakes stay the same (default 0: every run takes exactly T, as the simulator's model says: README, "Simulator reference").
   */
  durationSpread?: number;
  /** Runs over new changes allowed in flight at once (0: as runners allow; default as a queue's). */
  batchInFlight?: number;
  /** Keep testing new changes while a failure is searched (default as a queue's). */
  speculate?: boolean;
  /** `batch.hold`: how long a lone change waits for a second, as a share of a run (default as a queue's). */
  hold?: number;
  /** `batch.policy`: the batching policy by name, which sets the defaults of the three settings above (default save-runs). */
  batching?: string;
  /** Probes at once while searching (0: as runners allow). */
  searchWidth?: number;
  /** Block changes of a broken stream at once unless they revert the culprit (default true). */
  awaitRevert?: boolean;
  /** Treat reverts of the culprit as likely fixes (default true; off for the baselines). */
  revertAware?: boolean;
  /** With awaitRevert: how often, in T, a broken stream's tip is checked anyway (default 2). */
  recheck?: number;
  fixDelay?: number;
  fixDelayMissed?: number;
  /**
   * The share of fixes that are new changes repairing the break without reverting it (default 0):
   * nothing marks them as fixes, so revert-awareness cannot see them.
   */
  forwardFixShare?: number;
  trace?: TraceEntry[];
  verdicts?: boolean;
  /** Strategies beyond the built-in ones, by name (the benchmark's baselines). */
  strategies?: Record<string, Strategy>;
  /** The share of changes marked priority (`/ost priority`, a label): they jump the line (default 0). */
  priorityShare?: number;
  /** Tests in the suite (0: one bit per run, as without tests); each culprit breaks one to three of them. */
  tests?: number;
  /** Of those, how many flake; the flake rate is spread over them unevenly (suite.ts). */
  flakyTests?: number;
  /** `flaky.quarantine`: the flake rate above which a test is quarantined (null: never; default as a queue's). */
  quarantine?: number | null;
  /** `flaky.early_pass`: how likely a flake a failure of a known flaky test must be to pass early (null: never; default as a queue's). */
  earlyPass?: number | null;
  /** Called for every run dispatched (and when, in T), for analyses of where runs go. */
  onDispatch?: (run: DispatchSpec, at: number) => void;
}

/** The queue settings a simulation runs with: the queue's defaults but where the options say otherwise. */
export function simSettings(opts: SimOptions): Partial<QueueSettings> {
  return {
    maxParallel: opts.runners,
    batchMaxSize: opts.batch,
    ...(opts.batching ? { batching: opts.batching } : {}),
    ...batchSettings(opts.batching ?? defaultSettings.batching, {
      batchMaxInFlight: opts.batchInFlight,
      speculate: opts.speculate,
      holdShare: opts.hold,
    }),
    searchWidth: opts.searchWidth ?? 0,
    awaitRevert: opts.awaitRevert ?? true,
    revertAware: opts.revertAware ?? true,
    recheckMs: (opts.recheck ?? 2) * T,
    strategy: opts.strategy,
    timeoutMs: 1000 * T,
    retries: 0,
    ...(opts.confirm !== undefined ? { confirm: opts.confirm } : {}),
    ...(opts.confidence !== undefined ? { confidence: opts.confidence } : {}),
    ...(opts.quarantine !== undefined ? { quarantine: opts.quarantine } : {}),
    ...(opts.earlyPass !== undefined ? { earlyPass: opts.earlyPass } : {}),
  };
}
