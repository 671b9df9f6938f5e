// Public surface of the pure queue core.
export { advance, step, type StepOptions } from './step.ts';
export { emptyQueue, defaultSettings, idleRunnerSettings, batchSettings, type BatchSettings } from './settings.ts';
export { streamId } from './streams.ts';
export { heldChange, heldUntil } from './schedule.ts';
export { builtinStrategies, STRATEGY_NAMES, type BuiltinStrategyName } from './strategies/index.ts';
export type { Strategy, SearchView, Blame } from './strategies/index.ts';
export * from './types.ts';
