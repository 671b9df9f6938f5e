// `ost-gate simulate`: parses the options, runs the simulator and prints its metrics.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  BATCHING_NAMES,
  batchingPolicies,
  builtinStrategies,
  defaultSettings,
  type BatchSettings,
} from '../core/index.ts';
import { simulate, type SimOptions } from '../sim/simulate.ts';
import { parseTrace } from '../sim/trace.ts';
import { parseCommand } from './args.ts';
import { UsageError, zodMessage } from './errors.ts';

/** A batch setting's default under each policy: `1 with save-runs, 0 with use-idle-runners`. */
function policyDefaults(value: (d: BatchSettings) => string | number): string {
  return BATCHING_NAMES.map((name) => `${value(batchingPolicies[name].defaults)} with ${name}`).join(', ');
}

export const simulateHelp = `Usage: ost-gate simulate [options]

Runs the real queue core against a simulated CI in which every run takes one time unit T.
A prefix fails when it holds a culprit whose fix it does not hold, and otherwise fails with
the flake probability. Prints runs per change, time to verdict (mean, p90), false blames,
missed culprits and unfinished changes (README, "Benchmark").

Stream (random unless --trace is given):
  --changes N            changes to merge (default 200)
  --arrival-rate R       changes per T, Poisson (default 1.5)
  --culprit-rate P       probability that a change breaks the tests (default 0.03)
  --flake-rate F         probability that a good run fails anyway (default 0.05); with --tests,
                         the chance that a run flakes at all, spread over the flaky tests
  --tests N              tests in the suite, reported per run (default 0: one bit per run);
                         each culprit breaks one test, sometimes two or three
  --flaky-tests M        of those, how many flake, with unequal rates: the i-th flakes in
                         proportion to 1/i (default 10)
  --fix-delay D          T from the culprit verdict to its revert (default 2)
  --fix-delay-missed D   T from merge to the fix of a culprit never blamed (default 16)
  --forward-fix-share S  the share of fixes that repair the break without reverting it (default 0)
  --priority-share S     the share of changes marked priority (/ost priority): they jump the line
                         (default 0); --json then reports p90_priority and p90_others
  --trace FILE           a recorded stream: JSON array of { id, at, culprit?, fixes? } in merge order
  --seed S               random seed; the same seed gives the same result (default 1)

Queue:
  --runners K            runs at once, ci.max_parallel (default 4)
  --strategy NAME        ${Object.keys(builtinStrategies).join(' | ')} (default ${defaultSettings.strategy})
  --batch N              batch.max_size (default ${defaultSettings.batchMaxSize})
  --batching NAME        batch.policy: ${BATCHING_NAMES.join(' | ')} (default ${defaultSettings.batching});
                         it sets the defaults of the three below
  --batch-in-flight N    batch.max_in_flight: runs over new changes at once, 0 = as runners allow
                         (default ${policyDefaults((d) => d.batchMaxInFlight)})
  --hold S               batch.hold: a lone change waits up to S x T for a second one
                         (default ${policyDefaults((d) => d.holdShare)})
  --speculate            batch.speculate: keep testing new changes while a failure is searched
                         (default ${policyDefaults((d) => (d.speculate ? 'on' : 'off'))})
  --use-idle-runners     the same as --batching use-idle-runners (ci.use_idle_runners)
  --confirm N            flaky.confirm (default ${defaultSettings.confirm})
  --confidence C         flaky.confidence (default ${defaultSettings.confidence})
  --quarantine R         flaky.quarantine, with --tests: the flake rate above which a test is
                         quarantined, or off (default ${defaultSettings.quarantine ?? 'off'})
  --early-pass P         flaky.early_pass, with --tests: how likely a flake the failures of tests
                         known to flake must be for their run's changes to pass at once,
                         provisionally, or off (default ${defaultSettings.earlyPass ?? 'off'})
  --duration-spread S    runs take T x U(1-S, 1+S) instead of exactly T (default 0, at most 0.95)

Output:
  --json                 print the metrics as JSON
  --verdicts             add every change's final verdict
`;

const EARLY_PASS_RANGE = 'expected a chance from 0.5 to 0.999999, or off';

const optionsSchema = z.object({
  changes: z.coerce.number().int().min(1).max(100_000),
  'arrival-rate': z.coerce.number().positive(),
  'culprit-rate': z.coerce.number().min(0).max(1),
  'flake-rate': z.coerce.number().min(0).max(0.99),
  'fix-delay': z.coerce.number().min(0),
  'fix-delay-missed': z.coerce.number().min(0),
  'forward-fix-share': z.coerce.number().min(0).max(1),
  runners: z.coerce.number().int().min(1).max(1000),
  strategy: z.enum(Object.keys(builtinStrategies) as [string, ...string[]]),
  batch: z.coerce.number().int().min(1),
  batching: z.enum(BATCHING_NAMES).optional(),
  'batch-in-flight': z.coerce.number().int().min(0).optional(),
  hold: z.coerce.number().min(0).max(4).optional(),
  confirm: z.coerce.number().int().min(0).max(20),
  confidence: z.coerce.number().min(0).max(0.999999),
  seed: z.coerce.number().int(),
  'duration-spread': z.coerce.number().min(0).max(0.95),
  tests: z.coerce.number().int().min(0).max(100_000),
  'priority-share': z.coerce.number().min(0).max(1),
  'flaky-tests': z.coerce.number().int().min(0).max(100_000),
  quarantine: z
    .union([z.literal('off').transform(() => null), z.coerce.number().min(0).max(1)], {
      error: 'expected a flake rate from 0 to 1, or off',
    })
    .optional(),
  'early-pass': z
    .union(
      [
        z.literal('off').transform(() => null),
        z.coerce.number().min(0.5, EARLY_PASS_RANGE).max(0.999999, EARLY_PASS_RANGE),
      ],
      { error: EARLY_PASS_RANGE },
    )
    .optional(),
});

const options = {
  changes: { type: 'string', default: '200' },
  'arrival-rate': { type: 'string', default: '1.5' },
  'culprit-rate': { type: 'string', default: '0.03' },
  'flake-rate': { type: 'string', default: '0.05' },
  'fix-delay': { type: 'string', default: '2' },
  'fix-delay-missed': { type: 'string', default: '16' },
  'forward-fix-share': { type: 'string', default: '0' },
  runners: { type: 'string', default: '4' },
  strategy: { type: 'string', default: defaultSettings.strategy },
  batch: { type: 'string', default: String(defaultSettings.batchMaxSize) },
  batching: { type: 'string' },
  'batch-in-flight': { type: 'string' },
  hold: { type: 'string' },
  'use-idle-runners': { type: 'boolean', default: false },
  confirm: { type: 'string', default: String(defaultSettings.confirm) },
  confidence: { type: 'string', default: String(defaultSettings.confidence) },
  speculate: { type: 'boolean' },
  'duration-spread': { type: 'string', default: '0' },
  tests: { type: 'string', default: '0' },
  'priority-share': { type: 'string', default: '0' },
  'flaky-tests': { type: 'string', default: '10' },
  quarantine: { type: 'string' },
  'early-pass': { type: 'string' },
  seed: { type: 'string', default: '1' },
  trace: { type: 'string' },
  json: { type: 'boolean', default: false },
  verdicts: { type: 'boolean', default: false },
} as const;

/** A recorded stream from --trace, with one line for a file that cannot be read or parsed. */
async function readTrace(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `simulate: cannot read trace ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return parseTrace(text, path);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The batching policy asked for: --batching, or --use-idle-runners (which may not disagree with it). */
function batchingAsked(named: string | undefined, useIdleRunners: boolean): string | undefined {
  if (useIdleRunners && named && named !== 'use-idle-runners')
    throw new UsageError(`simulate: --use-idle-runners is --batching use-idle-runners, not ${named}: give one`);
  return useIdleRunners ? 'use-idle-runners' : named;
}

export async function runSimulate(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand('simulate', argv, { options, usage: simulateHelp, negatives: true }, out);
  if (!parsed) return 0;
  const v = parsed.values;
  const checked = optionsSchema.safeParse(v);
  if (!checked.success) throw new UsageError(`simulate: ${zodMessage(checked.error)}`);
  const o = checked.data;
  const trace = v.trace ? await readTrace(v.trace) : undefined;
  const batching = batchingAsked(o.batching, v['use-idle-runners']);
  const opts: SimOptions = {
    changes: o.changes,
    arrivalRate: o['arrival-rate'],
    culpritRate: o['culprit-rate'],
    flakeRate: o['flake-rate'],
    fixDelay: o['fix-delay'],
    fixDelayMissed: o['fix-delay-missed'],
    forwardFixShare: o['forward-fix-share'],
    runners: o.runners,
    strategy: o.strategy,
    batch: o.batch,
    ...(batching ? { batching } : {}),
    ...(o['batch-in-flight'] !== undefined ? { batchInFlight: o['batch-in-flight'] } : {}),
    ...(o.hold !== undefined ? { hold: o.hold } : {}),
    ...(v.speculate !== undefined ? { speculate: v.speculate } : {}),
    confirm: o.confirm,
    confidence: o.confidence,
    durationSpread: o['duration-spread'],
    tests: o.tests,
    priorityShare: o['priority-share'],
    flakyTests: o['flaky-tests'],
    ...(o.quarantine !== undefined ? { quarantine: o.quarantine } : {}),
    ...(o['early-pass'] !== undefined ? { earlyPass: o['early-pass'] } : {}),
    seed: o.seed,
    verdicts: v.verdicts,
    ...(trace ? { trace } : {}),
  };
  const metrics = simulate(opts);
  if (v.json) {
    out(JSON.stringify(metrics, null, 2));
    return 0;
  }
  const { verdicts, ...figures } = metrics;
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  out(
    `ost-gate simulate: ${trace ? `trace ${v.trace}` : `${o.changes} changes, seed ${o.seed}`}, strategy ${o.strategy}, ${o.runners} runner(s)` +
      (o.tests > 0 ? `, ${o.tests} tests (${Math.min(o['flaky-tests'], o.tests)} flaky)` : ''),
  );
  for (const [k, val] of Object.entries(figures)) out(`  ${k.padEnd(width)}  ${val}`);
  if (verdicts)
    for (const d of verdicts) out(`  ${d.id}: ${d.verdict}${d.culprit ? ` (culprit ${d.culprit})` : ''} at ${d.at} T`);
  return 0;
}
