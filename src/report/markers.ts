// The marker that finds a verdict post again, so that a retried report edits or skips it instead of
// posting twice: `ost-gate:<queue>:<change>:<verdict>`, hidden in Markdown, bracketed in plain text.

export function verdictMarker(queue: string, change: string, verdict: string): string {
  return `ost-gate:${queue}:${change}:${verdict}`;
}

/** A marker hidden in Markdown, as an HTML comment. */
export function hiddenInMarkdown(marker: string): string {
  return `<!-- ${marker} -->`;
}

/** A marker in plain text, bracketed on its own line. */
export function bracketed(marker: string): string {
  return `[${marker}]`;
}

/** The marker as the Markdown renderer writes it (GitHub comments). */
export function markdownMarker(queue: string, change: string, verdict: string): string {
  return hiddenInMarkdown(verdictMarker(queue, change, verdict));
}

/** The marker as the plain-text renderer writes it (Gerrit messages, git notes). */
export function textMarker(queue: string, change: string, verdict: string): string {
  return bracketed(verdictMarker(queue, change, verdict));
}

/** Reads queue and verdict back from the effect key `report:<queue>:<change>:<verdict>` of change `changeId`. */
export function parseReportKey(key: string, changeId: string): { queue: string; verdict: string } | null {
  const verdict = key.slice(key.lastIndexOf(':') + 1);
  const suffix = `:${changeId}:${verdict}`;
  if (!key.startsWith('report:') || !key.endsWith(suffix) || !/^[a-z]+$/.test(verdict)) return null;
  return { queue: key.slice('report:'.length, key.length - suffix.length), verdict };
}
