// The read model of a verdict: everything a reporter needs to post it, and nothing of the queue's
// internals. The engine builds it from the queue file when it performs a report effect.
import type { ChangeRecord, Run, VerdictRecord } from '../core/index.ts';
import type { QueueSections, RepoConfig } from '../config/repo.ts';
import type { QueueView } from '../store/types.ts';
import type { ChangeRef, RunRef } from './doc.ts';

/** Where a verdict is posted: the change as its code host knows it. */
export interface ChangeTarget {
  id: string;
  host: string;
  project: string;
  branch: string;
  sha: string;
  number: number | null;
  /** Who wrote it, when known (a direct push has no review to post on: logs name the author). */
  author?: string | null;
  /** Changes that landed in the same commit: the verdict is posted on each of them too. */
  landedWith?: ChangeTarget[];
}

/** What the repo config says about posting. */
export interface ReportSettings {
  /** Comment on the change (only for verdicts in `report.notify`). */
  comment: boolean;
  /** The config's `report:` and `commands:`, for the host's own fields (GitHub's check run, Gerrit's label). */
  config: Pick<QueueSections, 'report' | 'commands'> | null;
}

export interface VerdictReport {
  queue: string;
  verdict: VerdictRecord;
  /** Null when the queue no longer has the change (it was pruned before the report was performed). */
  target: ChangeTarget | null;
  /** The change itself, as people see it. */
  change: ChangeRef;
  /** The run the verdict was decided on. */
  run: RunRef | null;
  /** For `blocked` and `fixed`: the culprit. */
  culprit: ChangeRef | null;
  /** For `culprit`: which prefixes passed and failed. */
  evidence: { run: RunRef; end: ChangeRef; result: 'passed' | 'failed' }[];
  /** For `culprit`: the changes it blocks. */
  blocked: ChangeRef[];
  /** Changes that landed in the same commit as this one (a merged stack): they share the verdict. */
  landedWith: ChangeRef[];
  settings: ReportSettings;
  /** Whether the verdict is one of `report.notify` (comment on it) or only recorded (check run, log). */
  notify: boolean;
  /** The change's page on the dashboard, when the server has a public URL. */
  dashboardUrl: string | null;
}

/** How a change is labelled: `#12` on GitHub, `change 12` on Gerrit, a short sha for a commit. */
export type ChangeLabeler = (change: Pick<ChangeRecord, 'host' | 'number' | 'sha'>) => string;

export const defaultLabel: ChangeLabeler = (c) => (c.number ? `change ${c.number}` : c.sha.slice(0, 10));

/** How a change is labelled by its host's labeler (`labels`, by host), or the default one. */
export function labelerOf(labels: Record<string, ChangeLabeler> | undefined): ChangeLabeler {
  return (c) => labels?.[c.host]?.(c) ?? defaultLabel(c);
}

export function changeRef(file: QueueView, id: string, labelOf: ChangeLabeler): ChangeRef {
  const c = Object.hasOwn(file.state.changes, id) ? file.state.changes[id] : undefined;
  if (!c) return { id, label: id, title: '', url: null, known: false };
  return { id, label: labelOf(c), title: c.title ?? '', url: c.url ?? null, known: true };
}

export function runRef(run: Pick<Run, 'key' | 'url'>): RunRef {
  return { key: run.key, url: run.url ?? null };
}

export function changeTarget(c: ChangeRecord): ChangeTarget {
  const base = { host: c.host, project: c.project, branch: c.branch, sha: c.sha };
  return {
    id: c.id,
    ...base,
    number: c.number ?? null,
    author: c.author ?? null,
    ...(c.landedWith?.length
      ? {
          landedWith: c.landedWith.map((m) => ({
            id: m.id,
            ...base,
            number: m.number ?? null,
            author: m.author ?? null,
          })),
        }
      : {}),
  };
}

/** How the changes that landed with `c` in one commit are shown. */
function landedWithRefs(c: ChangeRecord | undefined, labelOf: ChangeLabeler): ChangeRef[] {
  return (c?.landedWith ?? []).map((m) => ({
    id: m.id,
    label: labelOf({ host: c!.host, number: m.number ?? null, sha: c!.sha }),
    title: m.title ?? '',
    url: m.url ?? null,
    known: true,
  }));
}

export function reportSettings(config: RepoConfig | undefined): ReportSettings {
  return {
    comment: config?.report.comment !== false,
    config: config ?? null,
  };
}

export interface BuildOptions {
  labelOf?: ChangeLabeler;
  /** The server's public URL, for links to the dashboard. */
  publicUrl?: string | undefined;
}

/** The read model of `verdict` in `queue`, from the queue file as it is now. */
export function buildVerdictReport(
  queue: string,
  file: QueueView,
  verdict: VerdictRecord,
  opts: BuildOptions = {},
): VerdictReport {
  const labelOf = opts.labelOf ?? defaultLabel;
  const ref = (id: string) => changeRef(file, id, labelOf);
  const record = Object.hasOwn(file.state.changes, verdict.change) ? file.state.changes[verdict.change] : undefined;
  const run = verdict.run ? file.state.runs[verdict.run] : undefined;
  const notify = file.repoConfig?.report.notify;
  return {
    queue,
    verdict,
    target: record ? changeTarget(record) : null,
    change: ref(verdict.change),
    run: verdict.run ? runRef(run ?? { key: verdict.run }) : null,
    culprit: verdict.culprit && verdict.verdict !== 'culprit' ? ref(verdict.culprit) : null,
    evidence: (verdict.evidence ?? []).map((e) => ({ run: runRef(e), end: ref(e.end), result: e.result })),
    blocked: (verdict.blocked ?? []).map(ref),
    landedWith: landedWithRefs(record, labelOf),
    settings: reportSettings(file.repoConfig),
    notify: !notify || (notify as string[]).includes(verdict.verdict),
    dashboardUrl: opts.publicUrl ? changePageUrl(opts.publicUrl, verdict.change) : null,
  };
}

/** The dashboard page of a change. */
export function changePageUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/changes/${encodeURIComponent(id)}`;
}

/** The path of a run's log on this server (`GET /api/runs/:key/log`). */
export function runLogPath(key: string): string {
  return `/api/runs/${encodeURIComponent(key)}/log`;
}

/** Whether this server keeps a run's log: it ran on a `command:` runner (its own target, else the queue's provider). */
export function logKeptHere(run: { target?: string | undefined }, provider: string | undefined): boolean {
  return (run.target ?? provider)?.startsWith('command:') ?? false;
}

/** The dashboard page of a queue. */
export function queuePageUrl(publicUrl: string, queue: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/queues/${encodeURIComponent(queue)}`;
}
