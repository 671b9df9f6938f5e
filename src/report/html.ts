// Renders a Doc as HTML for the HTML part of a mail: every text escaped (html-template-tag), links
// kept, tables as tables, markers left out (a mail is found again by its Message-ID, not a marker).
import html from 'html-template-tag';
import type { Block, Doc, Inline } from './doc.ts';

/**
 * A link target from outside (a CI run's or a code host's URL), escaped for an href attribute and
 * interpolated with `$${...}`: only http and https pass, anything else (`javascript:`, `data:`) gives `#`.
 */
export function externalHref(url: string | null | undefined): string {
  if (!url) return '#';
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? html`${url}` : '#';
  } catch {
    return '#';
  }
}

function inline(part: Inline): string {
  if (typeof part === 'string') return html`${part}`;
  if ('code' in part) return html`<code>${part.code}</code>`;
  if ('strong' in part) return html`<strong>${part.strong}</strong>`;
  if ('link' in part) return html`<a href="$${externalHref(part.href)}">${part.link}</a>`;
  if ('run' in part)
    return part.run.url
      ? html`<a href="$${externalHref(part.run.url)}">${part.run.key}</a>`
      : html`<code>${part.run.key}</code>`;
  const c = part.change;
  if (!c.known) return html`<code>${c.id}</code>`;
  const label = c.url ? html`<a href="$${externalHref(c.url)}">${c.label}</a>` : html`${c.label}`;
  return c.title ? `${label} ${html`${c.title}`}` : label;
}

const line = (parts: Inline[]): string => parts.map(inline).join('');

function block(b: Block): string {
  if ('heading' in b) return html`<h3>${b.heading}</h3>`;
  if ('para' in b) return `<p>${line(b.para)}</p>`;
  if ('marker' in b) return '';
  const { head, rows } = b.table;
  const headRow = `<tr>${head.map((h) => html`<th align="left">${h}</th>`).join('')}</tr>`;
  const bodyRows = rows.map((r) => `<tr>${r.map((cell) => `<td>${line(cell)}</td>`).join('')}</tr>`);
  return `<table>${headRow}${bodyRows.join('')}</table>`;
}

export function toHtml(doc: Doc): string {
  return doc.map(block).filter(Boolean).join('\n');
}
