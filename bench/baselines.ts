// The systems ost-gate is compared with, written from their published descriptions as strategies
// and settings of the same simulated queue, so that every system sees the same changes and CI.
import type { SearchView, Strategy } from '../src/core/index.ts';
import { bisect } from '../src/core/strategies/bisect.ts';

/**
 * Test every change alone (what per-change gates such as Zuul and GitHub's merge queue spend):
 * each change's prefix is one run, started as soon as a runner is free; a failing change whose
 * predecessor passed is blamed at once, flake or not.
 */
export const perChange: Strategy = {
  name: 'per-change',
  batchWhileSearching: true,
  plan: () => [],
  decide: (view: SearchView) => ((view.failures[0] ?? 0) > 0 ? { position: 0, confidence: 1 } : null),
};

/**
 * Bors-NG: a failing batch is split in two and both halves are run again; a batch of one that
 * fails is blamed. In prefix terms the second half is the whole failing prefix run once more.
 */
export const bors: Strategy = {
  name: 'bors',
  plan(view: SearchView): number[] {
    const top = view.failures.findIndex((n) => n > 0);
    if (top <= 0) return [];
    const want = [Math.floor((top - 1) / 2), top].filter((p) => (view.inFlight[p] ?? 0) === 0);
    return want.slice(0, view.free);
  },
  decide: (view: SearchView) => ((view.failures[0] ?? 0) > 0 ? { position: 0, confidence: 1 } : null),
};

/** The original oVirt change queue: one run at a time, halving, the failing half deduced, no flake handling. */
export const ovirt: Strategy = { ...bisect, name: 'ovirt' };

export const baselineStrategies: Record<string, Strategy> = { 'per-change': perChange, bors, ovirt };

export interface SystemSetting {
  label: string;
  strategy: string;
  /** Runners the system uses; `k` means the scenario's runner count. */
  runners: 'k' | number;
  batch: number;
  confirm: number;
  /** Runs over new changes at once (0: as runners allow); unset: the queue's default. */
  batchInFlight?: number;
  confidence?: number;
  /** Test new changes while a failure is searched; unset: the queue's default. */
  speculate?: boolean;
  /** `batch.hold`: a lone change waits up to this share of a run for a second one; unset: the queue's default. */
  hold?: number;
  /** `batch.policy`: the batching policy by name (default save-runs). */
  batching?: string;
  /** Probes at once while searching (0: as runners allow). */
  searchWidth?: number;
  /** Block changes of a broken stream at once unless they revert the culprit (ost-gate's default). */
  awaitRevert?: boolean;
  /** Treat reverts of the culprit as likely fixes (ost-gate only; the modelled systems know nothing of reverts). */
  revertAware?: boolean;
  baseline: boolean;
}

export const baselines: SystemSetting[] = [
  {
    label: 'every change alone (Zuul, GitHub merge queue)',
    strategy: 'per-change',
    runners: 'k',
    batch: 1,
    confirm: 0,
    batchInFlight: 0,
    confidence: 0,
    speculate: true,
    hold: 0,
    awaitRevert: false,
    revertAware: false,
    baseline: true,
  },
  {
    label: 'original oVirt change queue',
    strategy: 'ovirt',
    runners: 1,
    batch: 1000,
    confirm: 0,
    batchInFlight: 1,
    confidence: 0,
    speculate: false,
    hold: 0,
    awaitRevert: false,
    revertAware: false,
    baseline: true,
  },
  {
    label: 'Bors (split and retry both halves)',
    strategy: 'bors',
    runners: 'k',
    batch: 1000,
    confirm: 0,
    batchInFlight: 1,
    confidence: 0,
    speculate: false,
    hold: 0,
    awaitRevert: false,
    revertAware: false,
    baseline: true,
  },
];
