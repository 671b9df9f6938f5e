// The dashboard's per-test parts: what a culprit broke, on its verdict line, and the queue's
// "flaky tests" table (runs, flaky failures, estimated rate, quarantined since), from the test book.
import html from 'html-template-tag';
import type { QueueState, VerdictRecord } from '../../core/index.ts';
import { flakyTests } from '../../core/test-book.ts';
import { brokenTests, moreTests } from '../../report/tests.ts';
import { percent, time } from './format.ts';

/** ` · broke <code>a</code>, <code>b</code> and 2 more tests`, or nothing when no tests were reported. */
export function brokeNote(v: VerdictRecord): string {
  const b = brokenTests(v);
  if (!b) return '';
  const names = b.shown.map((t) => html`<code>${t}</code>`).join(', ');
  return ` · broke ${names}${moreTests(b)}`;
}

/** The most rows the flaky tests table shows: the flakiest first. */
const ROWS = 30;

/** The queue's tests that flaked or are quarantined, flakiest first; nothing before a CI reported tests. */
export function flakyTestsTable(state: QueueState): string {
  const book = state.testBook;
  if (!book) return '';
  const rows = flakyTests(state).slice(0, ROWS);
  const body = rows.length
    ? rows
        .map(
          (t) =>
            html`<tr><td><code>${t.id}</code></td><td>${String(t.failures)}</td><td>${String(t.flakes)}</td><td>${percent(t.flakeRate)}</td>` +
            html`<td>${t.quarantinedSince !== null ? time(t.quarantinedSince) : '–'}</td></tr>`,
        )
        .join('')
    : html`<tr><td colspan="5" class="muted">no test has flaked yet</td></tr>`;
  const limit = state.settings.quarantine;
  const rule =
    limit === null || limit === undefined
      ? 'quarantine is off (flaky.quarantine: null)'
      : html`quarantined above ${percent(limit)} (flaky.quarantine)`;
  return (
    html`<h2>Flaky tests</h2><p class="muted">Out of ${String(book.judgedRuns)} runs that reported tests; $${rule}.</p>` +
    html`<table><thead><tr><th>test</th><th>failures</th><th>flaky failures</th><th>estimated rate</th><th>quarantined since</th></tr></thead><tbody>` +
    body +
    '</tbody></table>'
  );
}
