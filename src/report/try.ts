// What a try run's result says on its open change (a GitHub comment and check run, a Gerrit review
// message): how it ended, what it ran over, its failing tests, a link to its log. Composed once as a
// document; the hosts render and send it.
import type { Run, TryTarget } from '../core/index.ts';
import { bracketed, hiddenInMarkdown } from './markers.ts';
import { code, link, type Doc, type Inline } from './doc.ts';
import { moreTests } from './tests.ts';

/** A try run as it ended, with where its log is. */
export interface TryReport {
  queue: string;
  run: Run & { try: TryTarget };
  /** The CI's page of the run, or the server's log of a `command:` runner (`OST_PUBLIC_URL`). */
  logUrl: string | null;
}

export type TryOutcome = 'passed' | 'failed' | 'no result' | 'cancelled';

/** How a try ended, in the words of its message. */
export function tryOutcome(run: Pick<Run, 'state'>): TryOutcome {
  if (run.state === 'passed' || run.state === 'failed' || run.state === 'cancelled') return run.state;
  return 'no result';
}

/** Tests a try's message names; the rest are counted. */
const TESTS_SHOWN = 10;

/** The marker that finds a try's message again: one per run key. */
export function tryMarker(queue: string, run: Pick<Run, 'key'> & { try: Pick<TryTarget, 'change'> }): string {
  return `ost-gate:${queue}:${run.try.change}:try:${run.key}`;
}

export const tryMarkdownMarker = (queue: string, run: TryReport['run']) => hiddenInMarkdown(tryMarker(queue, run));
export const tryTextMarker = (queue: string, run: TryReport['run']) => bracketed(tryMarker(queue, run));

/** The message of a try's result. */
export function tryDoc(report: TryReport): Doc {
  const { queue, run, logUrl } = report;
  const t = run.try;
  const outcome = tryOutcome(run);
  const others = Object.entries(run.refs).filter(([project]) => project !== t.project);
  const what: Inline[] = [
    'Run ',
    code(run.key),
    ` tried ${t.head && t.head !== t.sha ? 'the merge commit ' : 'commit '}`,
    code(t.sha.slice(0, 10)),
    ` of this change in queue `,
    code(queue),
    `, asked by ${t.by}`,
    ...(others.length > 0
      ? [
          ', with the other projects at their last passing commits: ',
          ...others.flatMap(([project, sha], i) => [i === 0 ? '' : ', ', `${project} at `, code(sha.slice(0, 10))]),
        ]
      : []),
    '.',
  ];
  const doc: Doc = [{ heading: `ost-gate try: ${outcome}` }, { para: what }];
  const failed = run.tests?.failed ?? [];
  if (outcome === 'failed' && failed.length > 0) {
    const shown = failed.slice(0, TESTS_SHOWN);
    const more = moreTests({ shown, more: (run.tests?.failedCount ?? failed.length) - shown.length });
    doc.push({ para: ['Failing tests: ', ...shown.flatMap((id, i) => [i === 0 ? '' : ', ', code(id)]), `${more}.`] });
  }
  if (outcome === 'no result' || outcome === 'cancelled')
    doc.push({ para: [`It ended ${run.state}${run.error ? `: ${run.error}` : ''}.`] });
  if (logUrl) doc.push({ para: [link("The run's log", logUrl)] });
  doc.push({
    para: ['A try enters no queue and blames nobody. ', code('/ost try'), ' runs it again (on the newest commit).'],
  });
  doc.push({ marker: tryMarker(queue, run) });
  return doc;
}
