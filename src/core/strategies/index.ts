// The strategies the core knows by name; callers (the simulator, benchmarks) may add their own.
import { bayes } from './bayes.ts';
import { bisect } from './bisect.ts';
import type { Strategy } from './strategy.ts';

/** The strategies a repo config may name; the first is the default. */
export const STRATEGY_NAMES = ['bisect', 'bayes'] as const;
export type BuiltinStrategyName = (typeof STRATEGY_NAMES)[number];

export const builtinStrategies: Readonly<Record<BuiltinStrategyName, Strategy>> = { bisect, bayes };
export type { Strategy, SearchView, Blame } from './strategy.ts';
