// Public surface of the pure queue core.
export { advance, step, type StepOptions } from './step.ts';
export { emptyQueue, defaultSettings } from './settings.ts';
export {
  BATCHING_NAMES,
  batchingPolicies,
  batchingOf,
  batchSettings,
  type BatchingName,
  type BatchingPolicy,
  type BatchSettings,
} from './batching/index.ts';
export { streamId } from './streams.ts';
export { runKeyPrefix } from './runs.ts';
export { heldChange, heldUntil } from './schedule.ts';
export { builtinStrategies, STRATEGY_NAMES, type BuiltinStrategyName } from './strategies/index.ts';
export type { Strategy, SearchView, Blame } from './strategies/index.ts';
export * from './types.ts';
