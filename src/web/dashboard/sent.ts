// The mails and chat messages a queue sent, as a table for its page and for a change's page: when,
// by mail or chat, to whom, about what, and the service's answer when it refused one for good.
import html from 'html-template-tag';
import type { SentMessage } from '../../store/types.ts';
import { badge } from './layout.ts';
import { time } from './format.ts';

/** The table of `sent` (newest first, at most `limit`), or nothing when there are none. */
export function sentTable(sent: readonly SentMessage[] | undefined, heading: string, limit = 20): string {
  const shown = (sent ?? []).slice(-limit).reverse();
  if (shown.length === 0) return '';
  return html`<h2>${heading}</h2><div class="table"><table><thead><tr><th scope="col">when</th>
<th scope="col">by</th><th scope="col">to</th><th scope="col">about</th><th scope="col">outcome</th></tr></thead>
<tbody>${shown.map(
    (m) => html`<tr><td>${time(m.at)}</td><td>${m.via}</td><td>${m.to}</td><td>${m.what}</td>
<td>$${m.refused ? html`$${badge('error', 'refused')} ${m.refused}` : badge('passed', 'sent')}</td></tr>`,
  )}</tbody></table></div>`;
}
