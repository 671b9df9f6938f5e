// Prometheus metrics (prom-client): queue depth, runs, verdicts, time to verdict, flakes, infra
// retries and webhook deliveries. The engine's step observer feeds them.
import { queueDepth } from './views.ts';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CoreEvent, Effect, QueueState } from '../core/index.ts';
import type { Engine, StateBefore } from '../engine/engine.ts';

export class Metrics {
  readonly registry = new Registry();
  private readonly runsDispatched: Counter;
  private readonly runsFinished: Counter;
  private readonly verdicts: Counter;
  private readonly ttv: Histogram;
  private readonly flakes: Counter;
  private readonly testsFlaky: Gauge;
  private readonly testsQuarantined: Gauge;
  private readonly infraRetries: Counter;
  readonly deliveries: Counter;

  constructor(engine: () => Engine | null) {
    const registers = [this.registry];
    new Gauge({
      name: 'ost_queue_depth',
      help: 'Changes in the queue without a final verdict',
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        const e = engine();
        if (!e) return;
        for (const q of await e.reads.queues()) {
          const file = await e.reads.queue(q);
          if (file) this.set({ queue: q }, queueDepth(file.state));
        }
      },
    });
    this.runsDispatched = new Counter({
      name: 'ost_runs_dispatched_total',
      help: 'System-test runs dispatched, by kind (batch, probe, confirm, retry, check, try)',
      labelNames: ['queue', 'kind'],
      registers,
    });
    this.runsFinished = new Counter({
      name: 'ost_runs_finished_total',
      help: 'System-test runs finished, by outcome',
      labelNames: ['queue', 'outcome'],
      registers,
    });
    this.verdicts = new Counter({
      name: 'ost_verdicts_total',
      help: 'Verdicts given, by type',
      labelNames: ['queue', 'verdict'],
      registers,
    });
    this.ttv = new Histogram({
      name: 'ost_time_to_verdict_seconds',
      help: 'Time from merge to final verdict',
      labelNames: ['queue'],
      buckets: [600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 24 * 3600, 48 * 3600],
      registers,
    });
    this.flakes = new Counter({
      name: 'ost_flakes_detected_total',
      help: 'Failed runs later shown to be flakes',
      labelNames: ['queue'],
      registers,
    });
    this.infraRetries = new Counter({
      name: 'ost_infra_retries_total',
      help: 'Runs retried after an infra error (cancelled, timed out, no result)',
      labelNames: ['queue'],
      registers,
    });
    this.testsFlaky = new Gauge({
      name: 'ost_tests_flaky',
      help: 'Tests of the queue that flaked at least once (culprits per failing test)',
      labelNames: ['queue'],
      registers,
    });
    this.testsQuarantined = new Gauge({
      name: 'ost_tests_quarantined',
      help: 'Tests of the queue in quarantine (flake rate above flaky.quarantine): their failures do not stop the line',
      labelNames: ['queue'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'ost_webhook_deliveries_total',
      help: 'Webhook and event deliveries received, by source and result',
      labelNames: ['source', 'result'],
      registers,
    });
  }

  /** The engine's step observer. */
  observe = (queue: string, event: CoreEvent, effects: Effect[], before: StateBefore, after: QueueState): void => {
    for (const e of effects) {
      if (e.type === 'dispatch') this.runsDispatched.inc({ queue, kind: e.run.kind });
      if (e.type === 'report' && !e.verdict.retracted) {
        this.verdicts.inc({ queue, verdict: e.verdict.verdict });
        const c = after.changes[e.change];
        if (c) this.ttv.observe({ queue }, Math.max(0, (e.verdict.at - (c.mergedAt ?? c.enqueuedAt)) / 1000));
      }
    }
    if (event.type === 'run-finished' || event.type === 'tick') {
      for (const [key, run] of Object.entries(after.runs)) {
        const was = before.runStates[key];
        if ((was === 'dispatched' || was === 'running') && run.state !== 'dispatched' && run.state !== 'running')
          this.runsFinished.inc({ queue, outcome: run.superseded ? 'superseded' : run.state });
      }
    }
    if (after.testBook) {
      const tests = Object.values(after.testBook.tests);
      this.testsFlaky.set({ queue }, tests.filter((t) => t.flakes > 0).length);
      this.testsQuarantined.set({ queue }, tests.filter((t) => t.quarantinedSince !== undefined).length);
    }
    const flakes = after.stats.flakes - before.stats.flakes;
    if (flakes > 0) this.flakes.inc({ queue }, flakes);
    const retries = after.stats.infraRetries - before.stats.infraRetries;
    if (retries > 0) this.infraRetries.inc({ queue }, retries);
  };
}
