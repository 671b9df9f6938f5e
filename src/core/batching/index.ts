// The batching policies the core knows by name; the first is the default.
import { batchingBySettings } from './by-settings.ts';
import type { BatchingPolicy, BatchSettings } from './policy.ts';

/**
 * `save-runs`: one batch in flight at a time, and a lone change waits up to 0.4 of a run for
 * company, so that each run covers as many changes as it can.
 */
const saveRuns = batchingBySettings('save-runs', { batchMaxInFlight: 1, speculate: false, holdShare: 0.4 });

/**
 * `use-idle-runners`: spend runners the search does not need on speed, as ost-gate did by default
 * before: batches as runners allow, new changes tested while a failure is searched, and no lone
 * change kept waiting. At the reference point its p90 time to verdict is about 0.8 T shorter, for
 * about 0.36 more runs per change (README, "Benchmark").
 */
const useIdleRunners = batchingBySettings('use-idle-runners', { batchMaxInFlight: 0, speculate: true, holdShare: 0 });

export const BATCHING_NAMES = ['save-runs', 'use-idle-runners'] as const;
export type BatchingName = (typeof BATCHING_NAMES)[number];

export const batchingPolicies: Readonly<Record<BatchingName, BatchingPolicy>> = {
  'save-runs': saveRuns,
  'use-idle-runners': useIdleRunners,
};

/** The policy a queue's settings name; a queue from before policies had names batches by `save-runs`'s rules. */
export function batchingOf(name: string | undefined): BatchingPolicy {
  return name && Object.hasOwn(batchingPolicies, name) ? batchingPolicies[name as BatchingName] : saveRuns;
}

/** The batch settings given, and for the others the policy's defaults. */
export function batchSettings(
  policy: string,
  given: { [K in keyof BatchSettings]?: BatchSettings[K] | undefined },
): BatchSettings {
  const preset = batchingOf(policy).defaults;
  return {
    batchMaxInFlight: given.batchMaxInFlight ?? preset.batchMaxInFlight,
    speculate: given.speculate ?? preset.speculate,
    holdShare: given.holdShare ?? preset.holdShare,
  };
}

export type { BatchingPolicy, BatchSettings, HeldChange } from './policy.ts';
