// Makes the property tests reproducible: every fc.assert starts from one fixed seed unless FC_SEED
// says otherwise (a number to replay a failure, or "random" to explore new cases, as
// `npm run test:explore` does). FC_SCALE multiplies the run counts of the core's properties.
import fc from 'fast-check';

const DEFAULT_SEED = 20261124;
const wanted = process.env.FC_SEED;
if (wanted !== 'random') {
  const seed = wanted === undefined || wanted === '' ? DEFAULT_SEED : Number(wanted);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(wanted)}`);
  fc.configureGlobal({ seed });
}

/** A property's run count, scaled by FC_SCALE (default 1) for deeper exploration. */
export function scaledRuns(n: number): number {
  const scale = Number(process.env.FC_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
