// Renders a Doc as GitHub-flavoured Markdown: headings, tables, links, and markers as hidden HTML comments.
import type { Block, Doc, Inline } from './doc.ts';
import { hiddenInMarkdown } from './markers.ts';

function inline(part: Inline): string {
  if (typeof part === 'string') return part;
  if ('code' in part) return `\`${part.code}\``;
  if ('strong' in part) return `**${part.strong}**`;
  if ('link' in part) return `[${part.link}](${part.href})`;
  if ('run' in part) return part.run.url ? `[${part.run.key}](${part.run.url})` : `\`${part.run.key}\``;
  const c = part.change;
  if (!c.known) return `\`${c.id}\``;
  return (c.url ? `[${c.label}](${c.url}) ${c.title}` : `${c.label} ${c.title}`).trim();
}

const line = (parts: Inline[]): string => parts.map(inline).join('');

function block(b: Block): string {
  if ('heading' in b) return `### ${b.heading}`;
  if ('para' in b) return line(b.para);
  if ('marker' in b) return hiddenInMarkdown(b.marker);
  const { head, rows } = b.table;
  const cells = (cs: string[]) => `| ${cs.join(' | ')} |`;
  return [cells(head), cells(head.map(() => '---')), ...rows.map((r) => cells(r.map(line)))].join('\n');
}

export function toMarkdown(doc: Doc): string {
  return doc.map(block).join('\n\n');
}
