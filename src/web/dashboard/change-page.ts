// One change, for the `/ost status` link: its queue, its runs, and its verdict with the evidence.
import { sentTable } from './sent.ts';
import { brokeNote } from './tests.ts';
import { isInFlight } from '../../core/lines.ts';
import html from 'html-template-tag';
import type { VerdictRecord } from '../../core/index.ts';
import type { QueueView } from '../../store/types.ts';
import { changeActions, type AdminView } from './actions.ts';
import { badge } from './layout.ts';
import { changeLabel, changePath, queuePath, runLinks, time, externalHref } from './format.ts';
import type { ChangeLabeler } from '../../report/model.ts';

/** ` · culprit X · confidence 99.95% · reason`, for the verdict line of a change page. */
function verdictDetails(v: VerdictRecord, id: string, ref: (id: string) => { short: string }): string {
  const culprit =
    v.culprit && v.culprit !== id
      ? html` · culprit <a href="$${changePath(v.culprit)}">${ref(v.culprit).short}</a>`
      : '';
  const confidence = v.confidence !== undefined ? html` · confidence ${(v.confidence * 100).toFixed(2)}%` : '';
  const reason = v.reason ? html` · ${v.reason}` : '';
  const early = v.provisional
    ? html` · ${v.provisional.tests.join(', ')} failed, a flake with chance ${(v.provisional.flake * 100).toFixed(1)}%; another run makes sure`
    : '';
  return culprit + confidence + brokeNote(v) + reason + early;
}

export function changePage(
  id: string,
  file: QueueView,
  history: VerdictRecord[],
  labelOf: ChangeLabeler,
  admin?: AdminView,
): string {
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const c = file.state.changes[id];
  const label = ref(id);
  const verdicts = [...history, ...file.state.verdicts].filter((v) => v.change === id);
  const current = [...verdicts].reverse().find((v) => !v.retracted);
  const runs = Object.values(file.state.runs).filter((r) => r.changes.includes(id) || r.end === id);
  const state = c
    ? c.state === 'done'
      ? (c.verdict ?? 'done')
      : runs.some(isInFlight)
        ? 'testing'
        : c.state
    : (current?.verdict ?? 'unknown');
  const onHost = label.url ? html` · <a href="$${externalHref(label.url)}">on the code host</a>` : '';
  const sha = c ? html` · sha ${c.sha}` : '';
  return html`<h1>${label.short} ${label.title}</h1>
<p>$${badge(state)}$${c?.priority ? ` ${badge('running', 'priority')}` : ''} in queue <a href="$${queuePath(file.name)}">${file.name}</a>$${onHost}$${sha}</p>
$${changeActions(admin, file, id)}
$${
    current
      ? html`<h2>Verdict: ${current.verdict}${current.provisional ? ' (provisional)' : ''}</h2><p>${time(current.at)}$${verdictDetails(current, id, ref)}</p>
$${
          current.evidence?.length
            ? html`<div class="table"><table>
<caption>Evidence: the prefixes that passed and failed</caption>
<thead><tr><th scope="col">run</th><th scope="col">tested up to</th>
<th scope="col">result</th></tr></thead><tbody>${current.evidence.map(
                (e) => html`
<tr><td>$${e.url ? html`<a href="$${externalHref(e.url)}">${e.key}</a>` : html`${e.key}`}</td>
<td>${ref(e.end).short}</td><td>$${badge(e.result)}</td></tr>`,
              )}
</tbody></table></div>`
            : ''
        }
$${current.blocked?.length ? html`<p>Blocked by it: ${current.blocked.map((b) => html`<a href="$${changePath(b)}">${ref(b).short}</a> `)}</p>` : ''}`
      : html`<p>No verdict yet.</p>`
  }
<h2>Runs</h2>
$${
    runs.length
      ? html`<div class="table"><table><thead><tr><th scope="col">run</th>
<th scope="col">kind</th><th scope="col">tests up to</th><th scope="col">state</th></tr></thead>
<tbody>${runs.map(
          (r) => html`<tr><td>${r.key}$${runLinks(r, r.target ?? file.ci?.provider)}</td>
<td>${r.kind}</td><td>${ref(r.end).short}</td><td>$${badge(r.state)}</td></tr>`,
        )}
</tbody></table></div>`
      : html`<p class="muted">No run recorded.</p>`
  }
$${sentTable(
    file.sent?.filter((m) => m.changes.includes(id)),
    'Mails and chat messages',
  )}`;
}
