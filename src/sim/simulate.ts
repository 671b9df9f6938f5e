// `ost-gate simulate`: the real core against a simulated CI on a random or recorded change stream.
import {
  advance,
  BATCHING_NAMES,
  emptyQueue,
  heldUntil,
  type CoreEvent,
  type Effect,
  type QueueState,
} from '../core/index.ts';
import { estimatedRates } from '../core/lines.ts';
import { computeMetrics, type SimMetrics, type SimTruth } from './metrics.ts';
import { seeded } from './random.ts';
import { simSettings, T, type SimOptions } from './options.ts';
import { Agenda, type Pending } from './agenda.ts';
import { SimSuite } from './suite.ts';

export { T, type SimOptions } from './options.ts';

const STREAM = { host: 'sim', project: 'sim', branch: 'main' };
const MAX_EVENTS = 2_000_000;

/**
 * One simulation: the real core stepped on its own state, a CI whose runs end after about T and
 * fail when their prefix holds an unfixed culprit (or by a flake), and fixes that merge a while
 * after a culprit's verdict. Each random stream is its own, so that a change of one (say, run
 * times) leaves the others as they were.
 */
class Simulation {
  private state: QueueState;
  private readonly truth: SimTruth = {
    order: [],
    mergedAt: new Map(),
    culprits: new Set(),
    fixOf: new Map(),
    forwardFixes: new Set(),
    priority: new Set(),
    verdicts: new Map(),
    told: new Map(),
  };
  private readonly agenda = new Agenda();
  private readonly fixScheduled = new Set<string>();
  private readonly wakes = new Set<number>();
  private readonly flakeRng: ReturnType<typeof seeded>;
  private readonly durationRng: ReturnType<typeof seeded>;
  private readonly fixRng: ReturnType<typeof seeded>;
  private readonly forwardShare: number;
  private readonly spread: number;
  /** With --tests: the suite, and the tests each culprit breaks. */
  private readonly suite: SimSuite | null;
  private readonly broken = new Map<string, string[]>();
  private runs = 0;
  private now = 0;
  /** Early passes given (flaky.early_pass), and how many a later verdict took back. */
  private readonly early = { given: 0, takenBack: 0, standing: new Set<string>() };

  constructor(private readonly opts: SimOptions) {
    this.flakeRng = seeded(opts.seed ^ 0x5bd1e995);
    this.durationRng = seeded(opts.seed ^ 0x27d4eb2f);
    this.fixRng = seeded(opts.seed ^ 0x85ebca6b);
    this.forwardShare = Math.min(Math.max(opts.forwardFixShare ?? 0, 0), 1);
    this.spread = Math.min(Math.max(opts.durationSpread ?? 0, 0), 0.95);
    this.state = emptyQueue('sim', simSettings(opts), 'sim');
    this.suite =
      (opts.tests ?? 0) > 0
        ? new SimSuite(opts.tests!, opts.flakyTests ?? 0, opts.flakeRate, this.flakeRng, opts.seed)
        : null;
    this.planArrivals();
  }

  /** The changes of the trace, or a random stream of them. */
  private planArrivals(): void {
    if (this.opts.trace) {
      for (const e of this.opts.trace)
        this.agenda.add({
          t: e.at,
          kind: 'arrive',
          id: e.id,
          culprit: !!e.culprit,
          ...(e.fixes ? { fixes: e.fixes } : {}),
        });
      return;
    }
    const streamRng = seeded(this.opts.seed);
    // its own stream, so that marking changes priority leaves arrivals and culprits as they were
    const priorityRng = seeded(this.opts.seed ^ 0x1b873593);
    const share = this.opts.priorityShare ?? 0;
    let t = 0;
    for (let i = 1; i <= this.opts.changes; i++) {
      t += streamRng.exponential(this.opts.arrivalRate);
      const culprit = streamRng.next() < this.opts.culpritRate;
      const priority = share > 0 && priorityRng.next() < share;
      this.agenda.add({ t, kind: 'arrive', id: `c${i}`, culprit, ...(priority ? { priority } : {}) });
    }
  }

  /** Plays the agenda to its end and returns the metrics. */
  run(): SimMetrics {
    for (let n = 0; this.agenda.size > 0; n++) {
      if (n > MAX_EVENTS) throw new Error('simulation did not settle: too many events');
      const p = this.agenda.next()!;
      this.now = p.t;
      const at = Math.round(p.t * T);
      if (p.kind === 'finish')
        this.feed({
          type: 'run-finished',
          at,
          key: p.key!,
          status: p.status!,
          ...(p.tests ? { tests: { failed: p.tests, passed: this.suite!.size - p.tests.length } } : {}),
        });
      else if (p.kind === 'wake') this.feed({ type: 'tick', at });
      else if (p.kind === 'missed-fix') {
        const verdict = this.truth.verdicts.get(p.id);
        if (verdict?.verdict !== 'culprit') this.scheduleFix(p.id, this.now);
      } else this.merge(p, at);
    }
    return {
      ...computeMetrics(this.truth, this.runs, this.opts.verdicts ?? false),
      flake_rate_estimate: estimatedRates(this.state).flakeRate,
      ...(this.early.given > 0 ? { early_passes: { given: this.early.given, taken_back: this.early.takenBack } } : {}),
    };
  }

  /** A change (or a fix) merges: the truth learns it, and the queue gets it. */
  private merge(p: Pending, at: number): void {
    const { truth } = this;
    const id = p.id;
    const parent = truth.order.at(-1) ?? 'base';
    truth.order.push(id);
    truth.mergedAt.set(id, this.now);
    if (p.culprit) {
      truth.culprits.add(id);
      if (this.suite) this.broken.set(id, this.suite.breaks());
      if (!this.opts.trace) this.agenda.add({ t: this.now + (this.opts.fixDelayMissed ?? 16), kind: 'missed-fix', id });
    }
    if (p.fixes && !truth.fixOf.has(p.fixes)) truth.fixOf.set(p.fixes, id);
    if (p.forward) truth.forwardFixes.add(id);
    if (p.priority) truth.priority.add(id);
    this.feed({
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
          ...(p.priority ? { priority: true } : {}),
          ...(p.fixes && !p.forward ? { reverts: [p.fixes] } : {}),
        },
      ],
    });
  }

  /** Steps the core with `event`, in place (the simulation owns its state), and plays its effects. */
  private feed(event: CoreEvent): void {
    const result = advance(this.state, event, { strategies: this.opts.strategies ?? {} });
    this.state = result.state;
    if (this.state.verdicts.length > 64) this.state.verdicts = this.state.verdicts.slice(-32);
    this.apply(result.effects);
    this.settleEarlyPasses();
    // a lone change held for company goes out at a known time: the queue is woken then, as a
    // server's ticks would (the first whole millisecond after it)
    const until = heldUntil(this.state);
    if (until !== null && until > event.at && !this.wakes.has(Math.ceil(until))) {
      this.wakes.add(Math.ceil(until));
      this.agenda.add({ t: (Math.ceil(until) + 0.5) / T, kind: 'wake', id: '' });
    }
  }

  /** The CI's side: a dispatched run ends after its time, passing or failing; a verdict is recorded. */
  private apply(effects: Effect[]): void {
    for (const e of effects) {
      if (e.type === 'dispatch') {
        this.runs += 1;
        this.opts.onDispatch?.(e.run, this.now);
        const tests = this.suite?.failing(this.unfixedCulprits(e.run.end).flatMap((c) => this.broken.get(c) ?? []));
        const fails = tests
          ? tests.length > 0
          : this.unfixedCulprits(e.run.end).length > 0 || this.flakeRng.next() < this.opts.flakeRate;
        this.agenda.add({
          t: this.now + this.duration(),
          kind: 'finish',
          id: e.run.end,
          key: e.run.key,
          status: fails ? 'failure' : 'success',
          ...(tests ? { tests } : {}),
        });
      } else if (e.type === 'cancel') this.agenda.cancelRun(e.key);
      else if (e.type === 'report') {
        this.countEarlyPass(e.change, e.verdict);
        this.truth.verdicts.set(e.change, { verdict: e.verdict.verdict, culprit: e.verdict.culprit, at: this.now });
        if (e.verdict.verdict === 'culprit' && this.truth.culprits.has(e.change))
          this.scheduleFix(e.change, this.now + (this.opts.fixDelay ?? 2));
      }
    }
  }

  /**
   * A provisional pass that stands becomes final without a report, when its change is done: its
   * final verdict is from then (README, "Simulator reference": `ttv_*`), and it was told when given
   * (`told_*`).
   */
  private settleEarlyPasses(): void {
    for (const id of this.early.standing) {
      const change = this.state.changes[id];
      if (change && change.state !== 'done') continue;
      this.early.standing.delete(id);
      const told = this.truth.verdicts.get(id);
      if (!told) continue;
      this.truth.told!.set(id, told.at);
      told.at = this.now;
    }
  }

  /** Counts a provisional pass (flaky.early_pass), and a later verdict that takes one back. */
  private countEarlyPass(change: string, verdict: { provisional?: unknown }): void {
    if (verdict.provisional) {
      this.early.given += 1;
      this.early.standing.add(change);
    } else if (this.early.standing.delete(change)) this.early.takenBack += 1;
  }

  /** A run's length in T: exactly 1, or 1 +- the spread. */
  private duration(): number {
    return this.spread > 0 ? 1 + this.spread * (2 * this.durationRng.next() - 1) : 1;
  }

  /** The culprits the prefix ending at `endId` contains without their fix: it fails if there is one. */
  private unfixedCulprits(endId: string): string[] {
    const { order, culprits, fixOf } = this.truth;
    const end = order.indexOf(endId);
    const out: string[] = [];
    for (const c of culprits) {
      const ci = order.indexOf(c);
      const fix = fixOf.get(c);
      const fi = fix === undefined ? Infinity : order.indexOf(fix);
      if (ci >= 0 && ci <= end && (fi < 0 || fi > end)) out.push(c);
    }
    return out;
  }

  /** Plans the fix of a culprit, once (a revert, or a forward fix for `forwardFixShare` of them). */
  private scheduleFix(culprit: string, at: number): void {
    if (this.opts.trace || this.fixScheduled.has(culprit)) return;
    this.fixScheduled.add(culprit);
    const forward = this.forwardShare > 0 && this.fixRng.next() < this.forwardShare;
    this.agenda.add({ t: at, kind: 'fix', id: `fix-${culprit}`, fixes: culprit, ...(forward ? { forward } : {}) });
  }
}

/** Runs one simulation and returns its metrics (and, when asked, every change's final verdict). */
export function simulate(opts: SimOptions): SimMetrics {
  if (opts.batching !== undefined && !(BATCHING_NAMES as readonly string[]).includes(opts.batching))
    throw new Error(`batching: got ${opts.batching}; the policies are ${BATCHING_NAMES.join(', ')}`);
  return new Simulation(opts).run();
}
