// The verdict messages, composed once and rendered as Markdown (GitHub) and plain text (Gerrit, git
// notes): the same words on every host, a first line `ost-gate: <verdict>`, and a marker to find the
// post again.
import { describe, expect, it } from 'vitest';
import type { ChangeRecord, VerdictRecord } from '../../src/core/index.ts';
import { toMarkdown } from '../../src/report/markdown.ts';
import { markdownMarker, parseReportKey, textMarker } from '../../src/report/markers.ts';
import { buildVerdictReport } from '../../src/report/model.ts';
import { toText } from '../../src/report/text.ts';
import { verdictDoc, verdictSummary } from '../../src/report/verdict.ts';
import { queueFile } from '../helpers/report.ts';

const change = (id: string, n: number): ChangeRecord => ({
  id,
  sha: `${n}`.repeat(40),
  number: n,
  title: `change ${id}`,
  url: `https://code.example/${n}`,
  host: 'gerrit',
  project: 'p',
  branch: 'main',
  stream: 'gerrit:p@main',
  seq: n,
  state: 'done',
  enqueuedAt: 0,
});

const file = queueFile('q', [change('a', 1), change('b', 2)]);
file.state.runs['q.4'] = {
  key: 'q.4',
  line: 'main',
  kind: 'batch',
  end: 'b',
  changes: ['a', 'b'],
  refs: {},
  state: 'failed',
  attempt: 1,
  createdAt: 0,
  deadline: 1,
  url: 'https://ci.example/4',
};

const render = { markdown: toMarkdown, text: toText };
const message = (v: VerdictRecord, as: keyof typeof render) => render[as](verdictDoc(buildVerdictReport('q', file, v)));

describe('verdict messages', () => {
  describe('a blocked change', () => {
    const tested: VerdictRecord = { change: 'b', verdict: 'blocked', culprit: 'a', run: 'q.4', at: 1 };
    const atOnce: VerdictRecord = {
      change: 'c',
      verdict: 'blocked',
      culprit: 'zzz',
      reason: 'contains zzz and does not revert it',
      at: 1,
    };

    it.each([
      [
        'markdown',
        'tested only on top of [change 1](https://code.example/1) change a, which breaks the system tests ([q.4](https://ci.example/4)).',
      ],
      [
        'text',
        'tested only on top of change 1 (change a) https://code.example/1, which breaks the system tests (https://ci.example/4).',
      ],
    ] as const)('names the culprit and the run it was tested on, in %s', (as, sentence) => {
      expect(message(tested, as)).toContain(sentence);
    });

    it.each(['markdown', 'text'] as const)('says when it was not tested on its own, and why, in %s', (as) => {
      const text = message(atOnce, as);
      expect(text).toContain('it was not tested on its own');
      expect(text).toContain('Why: contains zzz and does not revert it.');
      expect(text).not.toContain('tested only on top');
    });
  });

  describe('a culprit', () => {
    const culprit: VerdictRecord = {
      change: 'a',
      verdict: 'culprit',
      culprit: 'a',
      confidence: 0.9995,
      run: 'q.4',
      at: 1,
      evidence: [{ key: 'q.4', end: 'b', result: 'failed', url: 'https://ci.example/4' }],
      blocked: ['b'],
    };

    it.each([
      ['markdown', '### ost-gate: culprit', markdownMarker('q', 'a', 'culprit')],
      ['text', 'ost-gate: culprit', textMarker('q', 'a', 'culprit')],
    ] as const)('in %s: the first line names the verdict, the last carries the marker', (as, first, marker) => {
      const lines = message(culprit, as).split('\n');
      expect(lines[0]).toBe(first);
      expect(lines.at(-1)).toBe(marker);
    });

    it.each(['markdown', 'text'] as const)('in %s: confidence, evidence, blocked changes and how to dispute', (as) => {
      const text = message(culprit, as);
      expect(text).toContain('99.95%');
      expect(text).toMatch(/tested up to.*change 2.*failed/s);
      expect(text).toMatch(/Blocked by it: .*change 2/);
      expect(text).toContain('/ost not-culprit');
      expect(text).toContain('/ost retry');
      expect(text).not.toContain('It broke');
    });

    it.each([
      [
        'markdown',
        'It broke `basic-suite/002_bootstrap.add_hosts`, `basic-suite/004.vm_run`, `net.up` and 4 more tests.',
      ],
      ['text', 'It broke basic-suite/002_bootstrap.add_hosts, basic-suite/004.vm_run, net.up and 4 more tests.'],
    ] as const)('in %s: names the tests it broke, cut to a few with a count', (as, sentence) => {
      const tests = ['basic-suite/002_bootstrap.add_hosts', 'basic-suite/004.vm_run', 'net.up', 'net.down', 'z.last'];
      const text = message({ ...culprit, tests, testsBroken: 7 }, as);
      expect(text).toContain(sentence);
      expect(verdictSummary('q', { verdict: { ...culprit, tests, testsBroken: 7 } })).toBe(
        'ost-gate: culprit confidence 0.9995, broke basic-suite/002_bootstrap.add_hosts, basic-suite/004.vm_run, net.up and 4 more tests in queue q',
      );
    });
  });

  it.each([
    ['passed', 'The system tests passed with this change included'],
    ['fixed', 'The system tests pass again with this change'],
  ] as const)('a %s change says so', (verdict, sentence) => {
    expect(message({ change: 'b', verdict, run: 'q.4', at: 1, culprit: 'a' }, 'text')).toContain(sentence);
  });
});

describe('a provisional pass (flaky.early_pass)', () => {
  const early: VerdictRecord = {
    change: 'a',
    verdict: 'passed',
    run: 'q.4',
    at: 1,
    provisional: { tests: ['net.flaky'], flake: 0.9731 },
  };

  it.each([
    ['markdown', '### ost-gate: passed (provisional)', 'except `net.flaky` ([q.4](https://ci.example/4))'],
    ['text', 'ost-gate: passed (provisional)', 'except net.flaky (https://ci.example/4)'],
  ] as const)('in %s: says which test failed, how likely a flake, and that a run makes sure', (as, first, except) => {
    const text = message(early, as);
    expect(text.split('\n')[0]).toBe(first);
    expect(text).toContain(except);
    expect(text).toContain('97.3%');
    expect(text).toContain('This pass is provisional');
    expect(text).not.toContain('The system tests passed with this change included.');
    expect(verdictSummary('q', { verdict: early })).toBe('ost-gate: passed (provisional) in queue q');
  });

  it('counts the tests past the first three', () => {
    const tests = ['t1', 't2', 't3', 't4', 't5'];
    const text = message({ ...early, provisional: { tests, flake: 0.9 } }, 'text');
    expect(text).toContain('except t1, t2, t3 and 2 more (https://ci.example/4): tests that have flaked before');
  });
});

describe('report keys', () => {
  it.each([
    ['report:q:github:o/r#3:culprit', 'github:o/r#3', { queue: 'q', verdict: 'culprit' }],
    ['report:ovirt:master:gerrit:h/p~3:blocked', 'gerrit:h/p~3', { queue: 'ovirt:master', verdict: 'blocked' }],
    ['report:q:github:o/r#3:culprit', 'github:o/r#4', null],
    ['dispatch:q.1', 'github:o/r#3', null],
  ])('%s of %s', (key, id, expected) => {
    expect(parseReportKey(key, id)).toEqual(expected);
  });
});
