// Renders a Doc as plain text (Gerrit review messages, git notes, logs): no markup, links spelled out,
// tables as one line per row, markers as a bracketed last line.
import type { Block, Doc, Inline } from './doc.ts';
import { bracketed } from './markers.ts';

function inline(part: Inline): string {
  if (typeof part === 'string') return part;
  if ('code' in part) return part.code;
  if ('strong' in part) return part.strong;
  if ('link' in part) return `${part.link}: ${part.href}`;
  if ('run' in part) return part.run.url ?? part.run.key;
  const c = part.change;
  if (!c.known) return c.id;
  return `${c.label}${c.title ? ` (${c.title})` : ''}${c.url ? ` ${c.url}` : ''}`;
}

const line = (parts: Inline[]): string => parts.map(inline).join('');

function block(b: Block): string {
  if ('heading' in b) return b.heading;
  if ('para' in b) return line(b.para);
  if ('marker' in b) return bracketed(b.marker);
  const { head, rows } = b.table;
  return rows.map((r) => `* ${r.map((cell, i) => `${head[i]} ${line(cell)}`).join(', ')}`).join('\n');
}

export function toText(doc: Doc): string {
  return doc.map((b) => ('marker' in b ? `\n${block(b)}` : block(b))).join('\n');
}
