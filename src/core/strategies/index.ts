// The strategies the core knows by name; callers (the simulator, benchmarks) may add their own.
import { bayes } from './bayes.ts';
import { bisect } from './bisect.ts';
import type { Strategy } from './strategy.ts';

export const builtinStrategies: Readonly<Record<string, Strategy>> = { bisect, bayes };
export type { Strategy, SearchView, Blame } from './strategy.ts';
