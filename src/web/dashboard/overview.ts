// The overview: every queue with its depth, runs in flight, pause, broken streams, last verdicts and
// its health over the last 7 days.
import { queueDepth, runsInFlight } from '../views.ts';
import html from 'html-template-tag';
import { summarise } from '../../engine/health.ts';
import type { VerdictRecord } from '../../core/index.ts';
import type { QueueView } from '../../store/types.ts';
import { badge, pauseState } from './layout.ts';
import { changeLabel, changeLink, duration, percent, queuePath, time, externalHref } from './format.ts';
import type { ChangeLabeler } from '../../report/model.ts';

export function healthFigures(file: QueueView, now: number): string {
  const h = summarise(file.health ?? [], now);
  return html`<dl class="figures" aria-label="Health over the last 7 days">
<div><dt>runs per change</dt><dd>${h.runsPerChange === null ? '–' : h.runsPerChange.toFixed(2)}</dd>
</div>
<div><dt>time to verdict, median (at most)</dt><dd>${duration(h.ttvMedianMs)}</dd>
</div>
<div><dt>time to verdict, p90 (at most)</dt><dd>${duration(h.ttvP90Ms)}</dd>
</div>
<div><dt>failures that were flakes</dt><dd>${percent(h.flakeShare)}</dd>
</div>
<div><dt>culprits found</dt><dd>${String(h.culprits)}</dd></div>
<div><dt>verdicts</dt><dd>${String(h.verdicts)}</dd></div></dl>`;
}

/** `stream by <culprit>`, for the broken line of a queue card. */
function brokenBy(stream: string, culprit: string, ref: (id: string) => { short: string; title: string }): string {
  return html`<span>${stream} by $${changeLink(ref(culprit), culprit)}</span>`;
}

function lastCulpritLine(v: VerdictRecord, ref: (id: string) => { short: string; title: string }): string {
  const confidence = ((v.confidence ?? 0) * 100).toFixed(2);
  return html`<p>Last culprit: $${changeLink(ref(v.change), v.change)} · confidence ${confidence}% · ${time(v.at)}</p>`;
}

function queueCard(file: QueueView, now: number, labelOf: ChangeLabeler): string {
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const s = file.state;
  const depth = queueDepth(s);
  const runs = runsInFlight(s);
  const broken = Object.values(s.streams).filter((st) => st.broken);
  const last = s.verdicts
    .filter((v) => !v.retracted)
    .slice(-8)
    .reverse();
  const lastCulprit = [...s.verdicts].reverse().find((v) => v.verdict === 'culprit' && !v.retracted);
  return html`<section class="queue" aria-labelledby="q-${encodeURIComponent(s.name)}">
<h2 id="q-${encodeURIComponent(s.name)}"><a href="$${queuePath(s.name)}">${s.name}</a></h2>
<p>$${pauseState(s)} · <strong>${String(depth)}</strong> change(s) waiting for a verdict ·
<strong>${String(runs.length)}</strong> run(s) in flight · CI ${file.ci?.provider ?? 'not configured'}</p>
$${broken.length ? html`<p>$${badge('culprit', 'broken')} ${broken.map((b) => brokenBy(b.id, b.broken!.culprit, ref))}</p>` : ''}
$${
    runs.length
      ? html`<div class="table"><table><caption>Runs in flight</caption>
<thead><tr><th scope="col">run</th><th scope="col">kind</th><th scope="col">tests up to</th>
<th scope="col">state</th></tr></thead><tbody>
${runs.map(
  (r) => html`<tr><td>$${r.url ? html`<a href="$${externalHref(r.url)}">${r.key}</a>` : html`${r.key}`}</td>
<td>${r.kind}</td><td>$${changeLink(ref(r.end), r.end)}</td>
<td>$${badge(r.state)}</td></tr>`,
)}
</tbody></table></div>`
      : ''
  }
$${lastCulprit ? lastCulpritLine(lastCulprit, ref) : ''}
$${healthFigures(file, now)}
$${
    last.length
      ? html`<div class="table"><table><caption>Last verdicts</caption>
<thead><tr><th scope="col">change</th><th scope="col">verdict</th>
<th scope="col">when</th></tr></thead><tbody>
${last.map(
  (v) => html`<tr><td>$${changeLink(ref(v.change), v.change)}</td>
<td>$${badge(v.verdict)}$${v.culprit && v.culprit !== v.change ? html` by ${ref(v.culprit).short}` : ''}</td>
<td>${time(v.at)}</td></tr>`,
)}
</tbody></table></div>`
      : html`<p class="muted">No verdicts yet.</p>`
  }
</section>`;
}

/** Queues whose stored files cannot be read: stopped, with what to do. */
function stoppedQueues(stopped: { queue: string; reason: string }[]): string {
  if (stopped.length === 0) return '';
  return html`<section class="notice error" role="alert"><h2>Stopped queues</h2>
<p>These queues cannot be read and take no events; their files are left as they are. Restore a damaged
file from a backup, or move it away to start that queue afresh, then restart the server.</p>
<ul>${stopped.map((s) => html`<li><strong>${s.queue}</strong>: ${s.reason}</li>`)}</ul></section>`;
}

export function overview(
  files: QueueView[],
  now: number,
  labelOf: ChangeLabeler,
  stopped: { queue: string; reason: string }[] = [],
): string {
  if (files.length === 0)
    return html`<h1>Queues</h1>$${stoppedQueues(stopped)}<p>No queues yet: nothing has merged since the server started watching.</p>`;
  return html`<h1>Queues</h1>$${stoppedQueues(stopped)}${files.map((f) => html`$${queueCard(f, now, labelOf)}`)}`;
}
