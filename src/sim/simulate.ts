// `ost-gate simulate`: the real core against a simulated CI on a random or recorded change stream.
import {
  advance,
  BATCHING_NAMES,
  batchSettings,
  defaultSettings,
  emptyQueue,
  heldUntil,
  type CoreEvent,
  type DispatchSpec,
  type Effect,
  type QueueSettings,
  type QueueState,
  type Strategy,
} from '../core/index.ts';
import { estimatedRates } from '../core/lines.ts';
import { computeMetrics, type SimMetrics, type SimTruth } from './metrics.ts';
import { seeded } from './random.ts';
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
  /** Called for every run dispatched, for analyses of where runs go. */
  onDispatch?: (run: DispatchSpec) => void;
}

interface Pending {
  t: number;
  order: number;
  kind: 'arrive' | 'finish' | 'fix' | 'missed-fix' | 'wake';
  /** A fix made forward: it repairs the break but is not a revert. */
  forward?: boolean;
  id: string;
  culprit?: boolean;
  fixes?: string;
  key?: string;
  status?: 'success' | 'failure';
}

const STREAM = { host: 'sim', project: 'sim', branch: 'main' };
const MAX_EVENTS = 2_000_000;

/** Runs one simulation and returns its metrics (and, when asked, every change's final verdict). */
export function simulate(opts: SimOptions): SimMetrics {
  if (opts.batching !== undefined && !(BATCHING_NAMES as readonly string[]).includes(opts.batching))
    throw new Error(`batching: got ${opts.batching}; the policies are ${BATCHING_NAMES.join(', ')}`);
  const fixDelay = opts.fixDelay ?? 2;
  const fixDelayMissed = opts.fixDelayMissed ?? 16;
  const streamRng = seeded(opts.seed);
  const flakeRng = seeded(opts.seed ^ 0x5bd1e995);
  const durationRng = seeded(opts.seed ^ 0x27d4eb2f);
  const fixRng = seeded(opts.seed ^ 0x85ebca6b);
  const forwardShare = Math.min(Math.max(opts.forwardFixShare ?? 0, 0), 1);
  const spread = Math.min(Math.max(opts.durationSpread ?? 0, 0), 0.95);
  const duration = () => (spread > 0 ? 1 + spread * (2 * durationRng.next() - 1) : 1);
  const settings: Partial<QueueSettings> = {
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
  };
  let state: QueueState = emptyQueue('sim', settings, 'sim');
  const truth: SimTruth = {
    order: [],
    mergedAt: new Map(),
    culprits: new Set(),
    fixOf: new Map(),
    forwardFixes: new Set(),
    verdicts: new Map(),
  };
  const fixScheduled = new Set<string>();
  const agenda: Pending[] = [];
  let order = 0;
  const schedule = (p: Omit<Pending, 'order'>) => {
    const item = { ...p, order: order++ };
    let lo = 0;
    let hi = agenda.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = agenda[mid]!;
      if (m.t < item.t || (m.t === item.t && m.order < item.order)) lo = mid + 1;
      else hi = mid;
    }
    agenda.splice(lo, 0, item);
  };

  if (opts.trace) {
    for (const e of opts.trace)
      schedule({ t: e.at, kind: 'arrive', id: e.id, culprit: !!e.culprit, ...(e.fixes ? { fixes: e.fixes } : {}) });
  } else {
    let t = 0;
    for (let i = 1; i <= opts.changes; i++) {
      t += streamRng.exponential(opts.arrivalRate);
      schedule({ t, kind: 'arrive', id: `c${i}`, culprit: streamRng.next() < opts.culpritRate });
    }
  }

  let runs = 0;
  let now = 0;
  /** Is the prefix ending at `endId` broken by a culprit whose fix it does not contain? */
  const trulyFails = (endId: string) => {
    const end = truth.order.indexOf(endId);
    for (const c of truth.culprits) {
      const ci = truth.order.indexOf(c);
      const fix = truth.fixOf.get(c);
      const fi = fix === undefined ? Infinity : truth.order.indexOf(fix);
      if (ci >= 0 && ci <= end && (fi < 0 || fi > end)) return true;
    }
    return false;
  };
  const scheduleFix = (culprit: string, at: number) => {
    if (opts.trace || fixScheduled.has(culprit)) return;
    fixScheduled.add(culprit);
    const forward = forwardShare > 0 && fixRng.next() < forwardShare;
    schedule({ t: at, kind: 'fix', id: `fix-${culprit}`, fixes: culprit, ...(forward ? { forward } : {}) });
  };
  const apply = (effects: Effect[]) => {
    for (const e of effects) {
      if (e.type === 'dispatch') {
        runs += 1;
        opts.onDispatch?.(e.run);
        const fails = trulyFails(e.run.end) || flakeRng.next() < opts.flakeRate;
        schedule({
          t: now + duration(),
          kind: 'finish',
          id: e.run.end,
          key: e.run.key,
          status: fails ? 'failure' : 'success',
        });
      } else if (e.type === 'cancel') {
        const i = agenda.findIndex((p) => p.kind === 'finish' && p.key === e.key);
        if (i >= 0) agenda.splice(i, 1);
      } else if (e.type === 'report') {
        truth.verdicts.set(e.change, { verdict: e.verdict.verdict, culprit: e.verdict.culprit, at: now });
        if (e.verdict.verdict === 'culprit' && truth.culprits.has(e.change)) scheduleFix(e.change, now + fixDelay);
      }
    }
  };
  const feed = (event: CoreEvent) => {
    // the simulation owns its state: stepped in place, without the copy `step` makes
    const result = advance(state, event, { strategies: opts.strategies ?? {} });
    state = result.state;
    if (state.verdicts.length > 64) state.verdicts = state.verdicts.slice(-32);
    apply(result.effects);
    // a lone change held for company goes out at a known time: the queue is woken then, as a
    // server's ticks would (the first whole millisecond after it)
    const until = heldUntil(state);
    if (until !== null && until > event.at && !wakes.has(Math.ceil(until))) {
      wakes.add(Math.ceil(until));
      schedule({ t: (Math.ceil(until) + 0.5) / T, kind: 'wake', id: '' });
    }
  };
  const wakes = new Set<number>();

  for (let n = 0; agenda.length > 0; n++) {
    if (n > MAX_EVENTS) throw new Error('simulation did not settle: too many events');
    const p = agenda.shift()!;
    now = p.t;
    const at = Math.round(p.t * T);
    if (p.kind === 'finish') {
      feed({ type: 'run-finished', at, key: p.key!, status: p.status! });
      continue;
    }
    if (p.kind === 'wake') {
      feed({ type: 'tick', at });
      continue;
    }
    if (p.kind === 'missed-fix') {
      if (!truth.verdicts.has(p.id) || truth.verdicts.get(p.id)!.verdict !== 'culprit') scheduleFix(p.id, now);
      continue;
    }
    const id = p.id;
    const parent = truth.order.at(-1) ?? 'base';
    truth.order.push(id);
    truth.mergedAt.set(id, now);
    if (p.culprit) {
      truth.culprits.add(id);
      if (!opts.trace) schedule({ t: now + fixDelayMissed, kind: 'missed-fix', id });
    }
    if (p.fixes && !truth.fixOf.has(p.fixes)) truth.fixOf.set(p.fixes, id);
    if (p.forward) truth.forwardFixes.add(id);
    feed({
      type: 'merged',
      at,
      stream: STREAM,
      before: parent,
      after: id,
      // a forward fix says nothing of the culprit (its title does not name it): nothing marks it as a fix
      changes: [
        {
          id,
          sha: id,
          parent,
          title: p.forward ? 'forward fix' : id,
          ...(p.fixes && !p.forward ? { reverts: [p.fixes] } : {}),
        },
      ],
    });
  }
  return {
    ...computeMetrics(truth, runs, opts.verdicts ?? false),
    flake_rate_estimate: estimatedRates(state).flakeRate,
  };
}
