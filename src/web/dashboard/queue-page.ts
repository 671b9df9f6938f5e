// One queue, with the bisection made visible: the range under search, which prefixes failed or are
// running, the suspect and its confidence; broken streams and their fix lines; the run timeline;
// verdicts and notices.
import html from 'html-template-tag';
import { posterior } from '../../core/strategies/posterior.ts';
import { estimatedRates, MAIN, viewLine } from '../../core/lines.ts';
import { heldChange, type VerdictRecord } from '../../core/index.ts';
import type { QueueView } from '../../store/types.ts';
import { queueActions, type AdminView } from './actions.ts';
import { sentTable } from './sent.ts';
import { brokeNote, flakyTestsTable } from './tests.ts';
import { badge, pauseState } from './layout.ts';
import { changeLabel, changeLink, changePath, externalHref, historyPath, time } from './format.ts';
import { runTimeline } from './charts/timeline.ts';
import { trendsPath } from './trends-page.ts';
import { healthFigures } from './overview.ts';
import { runsInFlight } from '../views.ts';
import type { ChangeLabeler } from '../../report/model.ts';

function lineTable(file: QueueView, line: string, caption: string, mainLine: boolean, labelOf: ChangeLabeler): string {
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const view = viewLine(file.state, line);
  if (view.changes.length === 0) return '';
  const top = view.bounds.findIndex((n) => n > 0);
  const rates = estimatedRates(file.state);
  const post = mainLine && top >= 0 ? posterior(view.bounds, rates.flakeRate, rates.culpritRate) : null;
  // a lone change of the main line waiting for a second one to share its run (batch.hold)
  const held = mainLine ? heldChange(file.state) : null;
  const rows = view.changes.map((id, i) => {
    const l = ref(id);
    const running = view.inFlight[i] ?? 0;
    const bound = view.bounds[i] ?? 0;
    const state = running
      ? badge('running', `running ×${running}`)
      : bound
        ? mainLine
          ? badge('failed', `failed ×${bound}`)
          : badge('passed', `passed ×${bound}`)
        : top >= 0 && i < top
          ? badge('waiting', 'in range')
          : held?.id === id
            ? badge('waiting', `waits for company until ${time(held.until)}`)
            : badge('queued', 'untested');
    const suspect =
      mainLine && i === 0 && bound > 0 && post
        ? html` $${badge('suspect', `suspect, confidence ${((post.first[0] ?? 0) * 100).toFixed(1)}%`)}`
        : '';
    const priority = file.state.changes[id]?.priority ? ` ${badge('running', 'priority')}` : '';
    return html`<tr><td>${String(i + 1)}</td><td><a href="$${changePath(id)}">${l.short}</a> ${l.title}</td>
<td>$${state}$${suspect}$${priority}</td></tr>`;
  });
  const range =
    top >= 0
      ? html`<p>Searching ${String(top + 1)} change(s) for the first failing one: ${ref(view.changes[0]!).short} to ${ref(view.changes[top]!).short}.</p>`
      : '';
  return html`<h2>${caption}</h2>$${range}<div class="table">
<table><caption>Each row is the prefix that ends at that change</caption>
<thead><tr><th scope="col">#</th><th scope="col">change</th><th scope="col">prefix</th></tr></thead>
<tbody>${rows.map((r) => html`$${r}`)}</tbody></table></div>`;
}

/** ` by <culprit> (confidence 99.95%) (reopened)`, after a verdict's badge. */
function verdictNote(v: VerdictRecord, ref: (id: string) => { short: string }): string {
  const by = v.culprit && v.culprit !== v.change ? html` by ${ref(v.culprit).short}` : '';
  const confidence = v.confidence !== undefined ? html` (confidence ${(v.confidence * 100).toFixed(2)}%)` : '';
  const provisional = v.provisional && !v.retracted ? html` <span class="muted">(provisional)</span>` : '';
  const reopened = v.retracted ? html` <span class="muted">(${v.provisional ? 'taken back' : 'reopened'})</span>` : '';
  return by + confidence + brokeNote(v) + provisional + reopened;
}

export function queuePage(file: QueueView, now: number, labelOf: ChangeLabeler, admin?: AdminView): string {
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const s = file.state;
  const broken = Object.values(s.streams).filter((st) => st.broken);
  const runs = runsInFlight(s);
  const verdicts = s.verdicts.slice(-30).reverse();
  // a revert or a fix may be under test on a broken stream's own line while the main line is empty
  const fixing = broken.filter((b) => viewLine(s, b.id).changes.length > 0).map((b) => b.id);
  const idle = fixing.length
    ? html`<p class="muted">Nothing new on the main line; the changes that may fix ${fixing.join(', ')} are tested below.</p>`
    : runs.length
      ? html`<p class="muted">Nothing new on the main line; the runs in flight are below.</p>`
      : html`<p class="muted">Nothing is waiting for a verdict.</p>`;
  return html`<h1>Queue ${s.name}</h1>
<p>$${pauseState(s)} · CI ${file.ci?.provider ?? 'not configured'} ·
strategy ${s.settings.strategy}, ${String(s.settings.maxParallel)} runner(s)</p>
$${queueActions(admin, file)}
$${healthFigures(file, now)}
<p><a href="$${trendsPath(s.name)}">Trends over time</a>: runs per change, time to verdict, flakes, culprits, per day or week.</p>
$${
    lineTable(file, MAIN, 'Under test', true, labelOf) ||
    html`
<h2>Under test</h2>$${idle}`
  }
${broken.map(
  (b) => html`<h2>Broken: ${b.id}</h2>
<p>$${badge('culprit')} $${changeLink(ref(b.broken!.culprit), b.broken!.culprit)}; later changes are blocked until a revert or a fix passes.</p>
$${lineTable(file, b.id, `Looking for the fix in ${b.id}`, false, labelOf)}`,
)}
$${runTimeline(file, now, labelOf)}
$${triesWaiting(s)}
<h2>Verdicts</h2>
$${
    verdicts.length
      ? html`<div class="table"><table><thead><tr>
<th scope="col">change</th><th scope="col">verdict</th><th scope="col">when</th></tr></thead>
<tbody>${verdicts.map(
          (v) => html`<tr><td>$${changeLink(ref(v.change), v.change)}</td>
<td>$${badge(v.verdict)}$${verdictNote(v, ref)}</td>
<td>${time(v.at)}</td></tr>`,
        )}</tbody></table></div>`
      : html`
<p class="muted">None yet.</p>`
  }
<p><a href="$${historyPath(s.name)}">Older verdicts</a></p>
$${flakyTestsTable(s)}
$${sentTable(file.sent, 'Mails and chat messages sent')}
$${
    file.notices.length
      ? html`<h2>Notices</h2><ul>${file.notices
          .slice(-10)
          .reverse()
          .map(
            (n) =>
              html`<li>$${badge(n.level === 'error' ? 'error' : n.level === 'warn' ? 'waiting' : 'passed', n.level)} ${time(n.at)} ${n.message}</li>`,
          )}</ul>`
      : ''
  }`;
}

/** `/ost try` requests waiting for a runner the queue leaves idle (their runs are on the timeline). */
function triesWaiting(s: QueueView['state']): string {
  const waiting = s.tries ?? [];
  if (waiting.length === 0) return '';
  return html`<p>Tries waiting for an idle runner (at most ${String(s.settings.tryMaxParallel ?? 1)} at once):
${waiting.map((t, i) => html`${i > 0 ? ', ' : ''}$${t.url ? html`<a href="$${externalHref(t.url)}">${t.change}</a>` : html`${t.change}`} (by ${t.by})`)}</p>`;
}
