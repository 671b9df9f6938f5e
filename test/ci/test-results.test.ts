// JUnit XML and callback test results: ids, nesting, skipped cases, and hostile or malformed input refused.
import { describe, expect, it } from 'vitest';
import {
  MAX_JUNIT_BYTES,
  TestResultsError,
  callbackTests,
  mergeResults,
  parseJunit,
} from '../../src/ci/test-results.ts';

describe('JUnit XML', () => {
  it('names failing cases <classname>.<name> (or the name alone), counts passes, and skips skipped ones', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ost">
  <testsuite name="basic-suite" tests="4">
    <testcase classname="basic-suite/002_bootstrap" name="add_hosts" time="12.5"><failure message="timed out">trace</failure></testcase>
    <testcase classname="basic-suite/002_bootstrap" name="add_dc"/>
    <testcase name="lonely"><error type="Crash"/></testcase>
    <testcase classname="x" name="later"><skipped/></testcase>
    <testsuite name="nested"><testcase classname="n" name="deep &amp; deeper"><failure/></testcase></testsuite>
  </testsuite>
</testsuites>`;
    expect(parseJunit(xml)).toEqual({
      failed: ['basic-suite/002_bootstrap.add_hosts', 'lonely', 'n.deep & deeper'],
      passed: 1,
    });
    expect(parseJunit('<testsuite name="s"><testcase classname="a" name="b"/></testsuite>')).toEqual({
      failed: [],
      passed: 1,
    });
  });

  it.each([
    [
      'a DOCTYPE with entities (a billion laughs)',
      '<!DOCTYPE l [<!ENTITY a "x">]><testsuite><testcase name="&a;"/></testsuite>',
      /DOCTYPE or ENTITY/,
    ],
    ['unclosed elements', '<testsuite><testcase name="x">', /does not parse/],
    ['another document', '<html><body/></html>', /no <testsuites> or <testsuite>/],
    ['too large a document', `<testsuite>${' '.repeat(MAX_JUNIT_BYTES)}</testsuite>`, /larger than 10 MB/],
  ])('refuses %s with a clear error', (_what, xml, message) => {
    expect(() => parseJunit(xml)).toThrow(TestResultsError);
    expect(() => parseJunit(xml)).toThrow(message);
  });

  it('merges a run’s documents, and keeps "passed" unknown unless every one says it', () => {
    expect(mergeResults([])).toBeNull();
    expect(
      mergeResults([
        { failed: ['b', 'a'], passed: 2 },
        { failed: ['a'], passed: 3 },
      ]),
    ).toEqual({
      failed: ['a', 'b'],
      passed: 5,
    });
    expect(mergeResults([{ failed: ['a'], passed: 2 }, { failed: [] }])).toEqual({ failed: ['a'] });
  });

  it('reads a callback’s tests as ids or as a JUnit document', () => {
    expect(callbackTests({ failed: ['z', 'a', 'z'] })).toEqual({ failed: ['a', 'z'] });
    expect(callbackTests({ failed: [], passed: 9 })).toEqual({ failed: [], passed: 9 });
    expect(callbackTests({ junit: '<testsuite><testcase name="t"><failure/></testcase></testsuite>' })).toEqual({
      failed: ['t'],
      passed: 0,
    });
  });
});
