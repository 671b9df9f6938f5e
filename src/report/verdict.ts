// The words of a verdict message, composed once for every host: what was decided, on which run,
// with what evidence, and what people can do about it. Renderers only format it.
import { code, joined, link, strong, type Doc, type Inline } from './doc.ts';
import { verdictMarker } from './markers.ts';
import type { VerdictReport } from './model.ts';
import { brokeText, brokenTests, moreTests } from './tests.ts';

/**
 * The message for a verdict: a first line `ost-gate: <verdict>`, the queue, the why, and its marker.
 * `postedOn`: the change it is posted on, when that is one that landed with the verdict's change.
 */
export function verdictDoc(r: VerdictReport, postedOn: string = r.verdict.change): Doc {
  const v = r.verdict;
  const heading = `ost-gate: ${v.verdict}${v.provisional ? ' (provisional)' : ''}`;
  const doc: Doc = [{ heading }, { para: ['Queue ', code(r.queue), '.'] }];
  if (r.landedWith.length) {
    const all = [...r.landedWith, r.change].filter((c) => c.id !== postedOn);
    doc.push({
      para: [
        'This change landed in one merge commit together with ',
        ...joined(all.map((c) => ({ change: c }))),
        '. The system tests can only test that commit, so this verdict is the commit’s, and each of them gets it.',
      ],
    });
  }
  const runLink = (fallback: string): Inline => (r.run ? { run: r.run } : fallback);
  const inRun: Inline[] = r.run ? [' (', { run: r.run }, ')'] : [];
  const culprit: Inline = r.culprit ? { change: r.culprit } : 'an unfixed culprit';
  switch (v.verdict) {
    case 'culprit':
      doc.push({
        para: [
          'This change is the first one, in merge order, whose system-test run fails: ',
          runLink('the failing run'),
          '.',
        ],
      });
      doc.push(...brokeParagraph(v));
      doc.push({
        para: [
          'Confidence that it is the culprit and not a flaky test: ',
          strong(`${((v.confidence ?? 0) * 100).toFixed(2)}%`),
          '.',
        ],
      });
      if (r.evidence.length) {
        const rows = r.evidence.map((e) => [[{ run: e.run }], [{ change: e.end }], [e.result]]);
        doc.push({ table: { head: ['run', 'tested up to', 'result'], rows } });
      }
      if (r.blocked.length)
        doc.push({ para: ['Blocked by it: ', ...joined(r.blocked.map((b) => ({ change: b }))), '.'] });
      doc.push({
        para: [
          'If this is wrong (a flaky test, an infrastructure problem), comment ',
          code('/ost not-culprit'),
          ': the range is tested again and the flake is recorded. ',
          code('/ost retry'),
          ' re-runs the failing run. A revert of this change is tested first.',
        ],
      });
      break;
    case 'blocked':
      doc.push({
        para: r.run
          ? ['This change was tested only on top of ', culprit, ', which breaks the system tests', ...inRun, '.']
          : ['This change comes after ', culprit, ', which breaks the system tests; it was not tested on its own.'],
      });
      if (v.reason) doc.push({ para: [`Why: ${v.reason}.`] });
      break;
    case 'fixed':
      doc.push({
        para: [
          'The system tests pass again with this change',
          ...inRun,
          '; it fixed ',
          r.culprit ? { change: r.culprit } : 'the break',
          '.',
        ],
      });
      break;
    case 'passed':
      doc.push(...(v.provisional ? provisionalParagraphs(v.provisional, inRun) : []));
      if (!v.provisional) doc.push({ para: ['The system tests passed with this change included', ...inRun, '.'] });
      break;
    default:
      if (v.reason) doc.push({ para: [v.reason] });
  }
  if (r.dashboardUrl) doc.push({ para: [link('Details on the dashboard', r.dashboardUrl)] });
  doc.push({ marker: verdictMarker(r.queue, postedOn, v.verdict) });
  return doc;
}

/** Why a pass came before the run that makes sure (early-pass.ts), and what happens if it was wrong. */
function provisionalParagraphs(p: NonNullable<VerdictReport['verdict']['provisional']>, inRun: Inline[]): Doc {
  const shown = p.tests.slice(0, 3);
  const more = p.tests.length - shown.length;
  return [
    {
      para: [
        'The system tests passed with this change included, except ',
        ...joined(shown.map((t) => code(t))),
        more > 0 ? ` and ${more} more` : '',
        ...inRun,
        `: ${p.tests.length === 1 ? 'a test that has' : 'tests that have'} flaked before, and this failure is a flake `,
        'with a chance of ',
        strong(`${(p.flake * 100).toFixed(1)}%`),
        '.',
      ],
    },
    {
      para: [
        'This pass is provisional: the queue is making sure with another run. If it shows a break, ',
        'a new verdict replaces this one; otherwise nothing more is posted.',
      ],
    },
  ];
}

/** `It broke `a`, `b` and 3 more tests.`, when the CI reported tests. */
function brokeParagraph(v: VerdictReport['verdict']): Doc {
  const b = brokenTests(v);
  if (!b) return [];
  return [{ para: ['It broke ', ...joined(b.shown.map((t) => code(t))), `${moreTests(b)}.`] }];
}

/** One line for logs: `ost-gate: blocked (culprit X) in queue Q`. */
export function verdictSummary(queue: string, r: Pick<VerdictReport, 'verdict'>): string {
  const v = r.verdict;
  const culprit = v.culprit && v.culprit !== v.change ? ` (culprit ${v.culprit})` : '';
  const confidence = v.confidence !== undefined ? ` confidence ${v.confidence.toFixed(4)}` : '';
  const b = brokenTests(v);
  const provisional = v.provisional ? ' (provisional)' : '';
  return `ost-gate: ${v.verdict}${provisional}${culprit}${confidence}${b ? `, ${brokeText(b, (t) => t)}` : ''} in queue ${queue}`;
}
