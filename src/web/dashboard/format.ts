// Small formatting helpers for the dashboard: durations, times, percentages, change labels.
import html from 'html-template-tag';
import { externalHref } from '../../report/html.ts';
import { logKeptHere, runLogPath, type ChangeLabeler } from '../../report/model.ts';
import type { QueueView } from '../../store/types.ts';

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const m = Math.round(ms / 60_000);
  if (m < 1) return `${Math.round(ms / 1000)} s`;
  if (m < 120) return `${m} min`;
  return `${(m / 60).toFixed(1)} h`;
}

export function time(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function percent(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)}%`;
}

/** The change's label as its host writes it (`#123`, `change 45`, a short sha), its title and link. */
export function changeLabel(
  file: QueueView | null,
  id: string,
  labelOf: ChangeLabeler,
): { short: string; title: string; url: string | null } {
  const c = file && Object.hasOwn(file.state.changes, id) ? file.state.changes[id] : undefined;
  if (!c) return { short: id.split(/[@#~]/).pop()!.slice(0, 12), title: '', url: null };
  return { short: labelOf(c), title: c.title ?? '', url: c.url ?? null };
}

export function queuePath(name: string): string {
  return `/queues/${encodeURIComponent(name)}`;
}

export { runLogPath } from '../../report/model.ts';

export function historyPath(queue: string, before?: number): string {
  return `${queuePath(queue)}/history${before === undefined ? '' : `?before=${before}`}`;
}

/** Where to read a run's output: the command runner's log kept here, or the CI's own page. */
export function runLinks(
  run: { key: string; url?: string | null | undefined; target?: string | undefined },
  provider: string | undefined,
): string {
  const log = logKeptHere(run, provider) ? html` <a href="$${runLogPath(run.key)}">log</a>` : '';
  const ci = run.url ? html` <a href="$${externalHref(run.url)}">CI</a>` : '';
  return log + ci;
}

export function changePath(id: string): string {
  return `/changes/${encodeURIComponent(id)}`;
}

/** A link to a change's dashboard page, then its title: `<a>#12</a> Fix the thing`. */
export function changeLink(label: { short: string; title: string }, id: string): string {
  return html`<a href="$${changePath(id)}">${label.short}</a> ${label.title}`;
}

export { externalHref };
