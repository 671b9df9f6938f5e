// Try runs as the API, the queue page and the metrics show them: the run names the open change, waiting
// tries are listed, and a try counts as its own kind of run.
import { describe, expect, it } from 'vitest';
import { queueDetail } from '../../src/web/views.ts';
import { runPurpose } from '../../src/web/dashboard/charts/timeline.ts';
import { queuePage } from '../../src/web/dashboard/queue-page.ts';
import { defaultLabel } from '../../src/report/model.ts';
import { Metrics } from '../../src/web/metrics.ts';
import { ask, passed, tryOf } from '../helpers/tries.ts';

describe('try runs in the queue API', () => {
  it('lists the waiting tries, and a try run with the change it tries, as a "try" on the timeline', () => {
    const h = passed({ maxParallel: 1 });
    ask(h, 1);
    ask(h, 2);
    const detail = queueDetail(h.file());
    expect(detail.runs.at(-1)).toMatchObject({
      kind: 'try',
      try: { change: 'git:app#1', sha: 'try-sha-1', by: 'alice' },
    });
    expect(detail.triesWaiting).toEqual([{ change: 'git:app#2', sha: 'try-sha-2', by: 'alice', requestedAt: h.now }]);
    expect(runPurpose(h.inFlight()[0]!)).toBe('try');
  });
});

describe('try runs on the queue page', () => {
  it('lists the tries waiting, their links made safe', () => {
    const h = passed({ maxParallel: 1 });
    ask(h, 1);
    ask(h, 2, { url: 'https://review.example.org/c/app/+/2' });
    ask(h, 3, { url: 'javascript:alert(1)' });
    const page = queuePage(h.file(), h.now, defaultLabel);
    expect(page).toMatch(/Tries waiting for an idle runner \(at most 1 at once\)/);
    expect(page).toContain('<a href="https://review.example.org/c/app/+/2">git:app#2</a> (by alice)');
    expect(page).toContain('<a href="#">git:app#3</a>');
    expect(page).not.toContain('git:app#1</a>');
  });
});

describe('try runs in the metrics', () => {
  it('counts a try dispatched as kind "try", apart from the batches', async () => {
    const h = passed({ maxParallel: 1 });
    const metrics = new Metrics(() => null);
    const before = { stats: { ...h.state.stats }, seq: h.state.seq, runStates: {} };
    const effects = ask(h, 1);
    metrics.observe('q', { type: 'try', at: h.now, target: tryOf(1), replyTo: {} }, effects, before, h.state);
    const text = await metrics.registry.metrics();
    expect(text).toContain('ost_runs_dispatched_total{queue="q",kind="try"} 1');
    expect(text).not.toContain('kind="batch"');
  });
});
