// The benchmark's table with tests (culprits per failing test): the default settings at the reference
// point with a suite of 200 tests of which 10 flake (`--tests 200 --flaky-tests 10`), beside the same
// streams on one bit per run, at three flake rates, against the targets of culprits per failing test.
import { simulate } from '../src/sim/simulate.ts';
import type { SimMetrics } from '../src/sim/metrics.ts';

const CHANGES = 2000;
const SEEDS = Number(process.env.BENCH_TEST_SEEDS ?? 10);
const SUITE = { tests: 200, flakyTests: 10 };

/** The targets with tests, per flake rate: runs per change, p90 on every seed, false blame rate. */
const TARGETS = [
  { f: 0.05, runs: 0.5, p90: 2.0, falseBlames: 0.001 },
  { f: 0.15, runs: 0.55, p90: 2.3, falseBlames: 0.002 },
  { f: 0.3, runs: 0.6, p90: 2.6, falseBlames: 0.002 },
];

interface Pooled {
  runs: number;
  p90Mean: number;
  p90Worst: number;
  toldMean: number;
  toldWorst: number;
  blamed: number;
  innocent: number;
  missed: number;
  mostMissed: number;
  unfinished: number;
  /** Provisional passes told (flaky.early_pass) and taken back, over seeds. */
  early: number;
  earlyBack: number;
}

/** The three ways a row runs: the default with tests, the same without early passes, one bit per run. */
const VARIANTS = [
  { tests: SUITE.tests, earlyPass: undefined, label: `${SUITE.tests} tests, ${SUITE.flakyTests} flaky` },
  { tests: SUITE.tests, earlyPass: null, label: 'the same, `flaky.early_pass: null`' },
  { tests: 0, earlyPass: undefined, label: 'one bit per run' },
] as const;

function pooled(f: number, variant: (typeof VARIANTS)[number]): Pooled {
  const { tests, earlyPass } = variant;
  const out: Pooled = {
    runs: 0,
    p90Mean: 0,
    p90Worst: 0,
    toldMean: 0,
    toldWorst: 0,
    blamed: 0,
    innocent: 0,
    missed: 0,
    mostMissed: 0,
    unfinished: 0,
    early: 0,
    earlyBack: 0,
  };
  for (let seed = 1; seed <= SEEDS; seed++) {
    const m: SimMetrics = simulate({
      changes: CHANGES,
      arrivalRate: 1.5,
      culpritRate: 0.03,
      flakeRate: f,
      runners: 4,
      strategy: 'bisect',
      batch: 20,
      seed,
      ...(tests > 0 ? SUITE : {}),
      ...(earlyPass !== undefined ? { earlyPass } : {}),
    });
    out.runs += m.runs_per_change / SEEDS;
    out.p90Mean += m.ttv_p90 / SEEDS;
    out.p90Worst = Math.max(out.p90Worst, m.ttv_p90);
    out.toldMean += m.told_p90 / SEEDS;
    out.toldWorst = Math.max(out.toldWorst, m.told_p90);
    out.blamed += m.blamed;
    out.innocent += Math.round(m.false_blame_rate * m.blamed);
    out.missed += m.missed_culprits;
    out.mostMissed = Math.max(out.mostMissed, m.missed_culprits);
    out.unfinished += m.unfinished;
    out.early += m.early_passes?.given ?? 0;
    out.earlyBack += m.early_passes?.taken_back ?? 0;
  }
  return out;
}

/** The section of bench/results/strategies.md with tests, and a line per target missed (for the log). */
export function testsSection(): { markdown: string; missed: string[] } {
  const head =
    '| flake rate | results | runs/change | ttv p90 mean (T) | ttv p90 worst seed (T) | told p90 mean (T) | told p90 worst seed (T) | false blames | missed (most on a seed) | unfinished | early passes (taken back) |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows: string[] = [];
  const missed: string[] = [];
  const mark = (ok: boolean) => (ok ? '' : ' ✗');
  for (const t of TARGETS) {
    for (const variant of VARIANTS) {
      const r = pooled(t.f, variant);
      const rate = r.blamed ? r.innocent / r.blamed : 0;
      // the targets are for the defaults with tests
      const judged = variant === VARIANTS[0];
      const ok = { runs: r.runs <= t.runs, p90: r.p90Worst <= t.p90, blame: rate <= t.falseBlames };
      if (judged)
        for (const [what, good] of Object.entries(ok)) if (!good) missed.push(`f = ${t.f}: ${what} target missed`);
      rows.push(
        `| ${t.f} | ${variant.label} | ` +
          `${r.runs.toFixed(3)}${judged ? ` (≤ ${t.runs})${mark(ok.runs)}` : ''} | ${r.p90Mean.toFixed(2)} | ` +
          `${r.p90Worst.toFixed(2)}${judged ? ` (≤ ${t.p90})${mark(ok.p90)}` : ''} | ` +
          `${r.toldMean.toFixed(2)} | ${r.toldWorst.toFixed(2)} | ` +
          `${r.innocent} of ${r.blamed} (${rate.toFixed(4)})${judged ? ` (≤ ${t.falseBlames})${mark(ok.blame)}` : ''} | ` +
          `${r.missed} (${r.mostMissed}) | ${r.unfinished} | ${variant.tests > 0 ? `${r.early} (${r.earlyBack})` : '-'} |`,
      );
    }
  }
  const markdown = `### With tests: the default at the reference point, ${SEEDS} seeds x ${CHANGES} changes

The CI reports each run's failing tests (\`ost-gate simulate --tests ${SUITE.tests} --flaky-tests ${SUITE.flakyTests}\`):
each culprit breaks one test (sometimes two or three) and the flake rate is spread over the flaky
tests unevenly. Beside each row: the same streams without early passes (\`flaky.early_pass: null\`, a
run's changes wait for the run that makes sure) and on one bit per run. ✗ marks a target missed.
*ttv* is the time from merge to the final verdict; *told* is the time from merge to when the change
was told the verdict it kept, earlier than *ttv* for a provisional pass that stood (told at once,
final once the run that makes sure agreed). The targets are judged on *ttv*.

${[head, ...rows].join('\n')}
`;
  return { markdown, missed };
}
