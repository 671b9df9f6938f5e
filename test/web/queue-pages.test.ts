// What the queue and change pages say while a broken stream's revert is under test: not "nothing is
// waiting", and every run with its log and CI links.
import { describe, expect, it } from 'vitest';
import { queuePage } from '../../src/web/dashboard/queue-page.ts';
import { changePage } from '../../src/web/dashboard/change-page.ts';
import { defaultLabel } from '../../src/report/model.ts';
import { Harness } from '../helpers/harness.ts';

describe('queue and change pages while a revert is tested', () => {
  it('say that the revert is under test on the fix line, and link each run to its log', () => {
    const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0 });
    h.merge(['bad']);
    h.round(() => true);
    h.round(() => true);
    expect(h.verdictOf('bad')).toBe('culprit');
    h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
    const run = h.inFlight()[0]!;
    expect(run.changes).toEqual(['revert']);
    run.target = 'command:ost';
    run.url = 'https://ci.example.org/runs/1';
    const page = queuePage(h.file(), 0, defaultLabel);
    expect(page).not.toMatch(/Nothing is waiting for a verdict/);
    expect(page).toMatch(/Nothing new on the main line; the changes that may fix git:app@main are tested below/);
    const change = changePage('revert', h.file(), [], defaultLabel);
    expect(change).toContain(`<a href="/api/runs/${encodeURIComponent(run.key)}/log">log</a>`);
    expect(change).toContain('<a href="https://ci.example.org/runs/1">CI</a>');
  });
});
