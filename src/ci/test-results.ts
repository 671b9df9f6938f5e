// Test results as CIs report them: JUnit XML (parsed with fast-xml-parser, bounded, hostile input
// refused) or `{ failed: [ids], passed: N }`, turned into the failing test ids the core searches by.
// A test's id is `<classname>.<name>` (or its name when it has no class), as Jenkins shows it.
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';

/** What a run's CI said of its tests. */
export interface TestResults {
  failed: string[];
  /** How many passed, when the CI said. */
  passed?: number;
}

/** The largest JUnit XML document (or all of a run's documents) read. */
export const MAX_JUNIT_BYTES = 10 * 1024 * 1024;
/** The largest JUnit XML document a CI callback may carry (the callback's body is bounded to match). */
export const MAX_CALLBACK_JUNIT = 1024 * 1024;
/** The most test cases counted from one document; a suite of more is refused as malformed. */
const MAX_CASES = 200_000;

export class TestResultsError extends Error {}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // only the five XML entities: a report never declares its own (a DOCTYPE is refused below)
  processEntities: true,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === 'testsuite' || name === 'testcase',
});

type Node = Record<string, unknown>;

/** Parses one JUnit XML document: the failing tests (a `<failure>` or an `<error>`) and how many passed. */
export function parseJunit(xml: string): TestResults {
  if (Buffer.byteLength(xml) > MAX_JUNIT_BYTES)
    throw new TestResultsError(`JUnit XML is larger than ${MAX_JUNIT_BYTES / 1024 / 1024} MB`);
  if (/<!(DOCTYPE|ENTITY)/i.test(xml)) throw new TestResultsError('JUnit XML with a DOCTYPE or ENTITY is refused');
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw new TestResultsError(`JUnit XML does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  const roots = [doc['testsuites'], ...(asArray(doc['testsuite']) as unknown[])].filter(isNode);
  if (roots.length === 0) throw new TestResultsError('JUnit XML has no <testsuites> or <testsuite> element');
  const out = { failed: [] as string[], passed: 0 };
  let cases = 0;
  const visit = (suite: Node, depth: number) => {
    if (depth > 20) throw new TestResultsError('JUnit XML nests test suites more than 20 deep');
    for (const c of asArray(suite['testcase']).filter(isNode)) {
      if (++cases > MAX_CASES) throw new TestResultsError(`JUnit XML has more than ${MAX_CASES} test cases`);
      const name = String(c['name'] ?? '').trim();
      if (!name) continue;
      const cls = String(c['classname'] ?? '').trim();
      const id = cls ? `${cls}.${name}` : name;
      if (c['failure'] !== undefined || c['error'] !== undefined) out.failed.push(id);
      else if (c['skipped'] === undefined) out.passed += 1;
    }
    for (const child of asArray(suite['testsuite']).filter(isNode)) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return out;
}

/** The results of several documents (one run's files) as one. */
export function mergeResults(all: TestResults[]): TestResults | null {
  if (all.length === 0) return null;
  const failed = [...new Set(all.flatMap((r) => r.failed))].sort();
  if (all.some((r) => r.passed === undefined)) return { failed };
  return { failed, passed: all.reduce((n, r) => n + r.passed!, 0) };
}

/** `tests` in a CI callback: the failing ids and how many passed, or a JUnit XML document. */
export const callbackTestsSchema = z.union([
  z
    .object({
      failed: z.array(z.string().min(1).max(300)).max(10_000),
      passed: z.number().int().min(0).max(10_000_000).optional(),
    })
    .strict(),
  z.object({ junit: z.string().max(MAX_CALLBACK_JUNIT) }).strict(),
]);

/** The results a callback's `tests` field gives; a JUnit document that does not parse is an error. */
export function callbackTests(tests: z.infer<typeof callbackTestsSchema>): TestResults {
  if ('junit' in tests) return parseJunit(tests.junit);
  const failed = [...new Set(tests.failed)].sort();
  return tests.passed === undefined ? { failed } : { failed, passed: tests.passed };
}

function asArray(x: unknown): unknown[] {
  return x === undefined || x === null ? [] : Array.isArray(x) ? x : [x];
}

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null;
}
