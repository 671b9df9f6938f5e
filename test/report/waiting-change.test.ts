// How a change that waits is shown, in the answer to `/ost status` and on the queue page: waiting
// for the next run, or for a second change to share its run (batch.hold), with when it goes anyway.
import { describe, expect, it } from 'vitest';
import { toText } from '../../src/report/text.ts';
import { statusDoc } from '../../src/report/status.ts';
import { defaultLabel } from '../../src/report/model.ts';
import { queuePage } from '../../src/web/dashboard/queue-page.ts';
import { Harness, HOUR } from '../helpers/harness.ts';
import { queueFile } from '../helpers/report.ts';

const fileOf = (h: Harness) => Object.assign(queueFile('q'), { state: h.state });
const statusOf = (h: Harness, id: string) => toText(statusDoc('q', fileOf(h), id));

/** A queue whose mean run time is an hour (batch.hold 0.5), with `lone` merged alone at 10:00. */
function loneAtTen(): Harness {
  const h = new Harness({ maxParallel: 2, holdShare: 0.5 });
  h.merge(['first']);
  h.round(() => false);
  h.now = 10 * HOUR;
  h.merge(['lone']);
  return h;
}

describe('/ost status', () => {
  it('says a lone change waits for company, and until when at the latest', () => {
    const h = loneAtTen();
    expect(statusOf(h, 'lone')).toContain(
      `lone is waiting for a second change to share its run, until ${new Date(10.5 * HOUR).toISOString()} at the latest (batch.hold)`,
    );
    h.wakeHeld();
    expect(statusOf(h, 'lone')).toContain('lone is under test in ');
  });

  it('says a lone change is queued for the next run while the batch in flight keeps it waiting anyway', () => {
    const h = new Harness({ maxParallel: 2, holdShare: 0.5 });
    h.merge(['first']);
    h.round(() => false);
    h.merge(['a', 'b']);
    h.merge(['c']);
    expect(h.inFlight().map((r) => r.changes)).toEqual([['a', 'b']]);
    expect(statusOf(h, 'c')).toContain('c is queued for the next run');
  });
});

describe('the queue page', () => {
  it('shows the lone change waiting for company, and until when', () => {
    const h = loneAtTen();
    const page = queuePage(fileOf(h), h.now, defaultLabel);
    expect(page).toContain('waits for company until 1970-01-01 10:30 UTC');
  });
});
