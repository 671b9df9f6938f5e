// A queue's older verdicts, from its history file, a page at a time, newest first, with a link to
// the next older page (the same paging as GET /api/queues/:name/history).
import html from 'html-template-tag';
import type { VerdictRecord } from '../../core/index.ts';
import type { ChangeLabeler } from '../../report/model.ts';
import type { QueueView } from '../../store/types.ts';
import { changeLabel, changeLink, historyPath, queuePath, time } from './format.ts';
import { badge } from './layout.ts';

export function historyPage(
  file: QueueView,
  page: { verdicts: VerdictRecord[]; more: boolean },
  labelOf: ChangeLabeler,
): string {
  const ref = (id: string) => changeLabel(file, id, labelOf);
  const name = file.state.name;
  const last = page.verdicts.at(-1);
  const older = page.more && last ? html`<p><a href="$${historyPath(name, last.at)}">Older</a></p>` : '';
  const rows = page.verdicts.map(
    (v) => html`<tr><td>$${changeLink(ref(v.change), v.change)}</td>
<td>$${badge(v.verdict)}${v.culprit && v.culprit !== v.change ? ` by ${ref(v.culprit).short}` : ''}</td>
<td>${time(v.at)}</td></tr>`,
  );
  return html`<h1>Older verdicts of <a href="$${queuePath(name)}">${name}</a></h1>
$${
    rows.length
      ? html`<div class="table"><table><thead><tr>
<th scope="col">change</th><th scope="col">verdict</th><th scope="col">when</th></tr></thead>
<tbody>${rows.map((r) => html`$${r}`)}</tbody></table></div>`
      : html`<p class="muted">No older verdicts.</p>`
  }
$${older}`;
}
