// A Jenkins build's test report, through the JUnit plugin's JSON API: the failing cases (FAILED or
// REGRESSION) by `<className>.<name>`, and how many passed. A build without one (404) has none.
import { ResponseError } from '../../http/fetch.ts';
import type { TestResults } from '../test-results.ts';
import type { JenkinsClient } from './client.ts';

interface JenkinsCase {
  className?: string;
  name?: string;
  status?: string;
}

interface JenkinsTestReport {
  passCount?: number;
  suites?: { cases?: JenkinsCase[] }[];
}

const FAILED = new Set(['FAILED', 'REGRESSION']);

/** The tests of the build at `buildUrl`, or null when it published no test report. */
export async function buildTests(client: JenkinsClient, buildUrl: string): Promise<TestResults | null> {
  let report: JenkinsTestReport;
  try {
    report = await client.fetchJson<JenkinsTestReport>(
      `${buildUrl}/testReport/api/json?tree=passCount,suites[cases[className,name,status]]`,
    );
  } catch (err) {
    if (err instanceof ResponseError && err.status === 404) return null;
    throw err;
  }
  const failed = new Set<string>();
  for (const suite of report.suites ?? [])
    for (const c of suite.cases ?? []) {
      if (!c.name || !FAILED.has(c.status ?? '')) continue;
      failed.add(c.className ? `${c.className}.${c.name}` : c.name);
    }
  const out: TestResults = { failed: [...failed].sort() };
  if (typeof report.passCount === 'number') out.passed = report.passCount;
  return out;
}
