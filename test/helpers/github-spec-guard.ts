// Runs before every test file: every fetch to GitHub's REST API (api.github.com, or a GHES root under
// /api/v3) and the answer it gets, from nock or from a stand-in server, is checked against GitHub's
// OpenAPI description (./github-spec.ts), and every GraphQL request and answer against its GraphQL
// schema (./github-graphql.ts). A test that sends or mocks something GitHub's spec rejects fails in its
// afterEach, with the reasons.
import 'nock';
import { afterEach, expect } from 'vitest';
import { DOTCOM, OLDEST_GHES, operationFor, problems, type SpecName } from './github-spec.ts';
import { graphqlProblems } from './github-graphql.ts';

const WRAPPED = Symbol.for('ost-gate.github-spec-guard');
const found: string[] = [];

function target(url: URL): { spec: SpecName; path: string } | undefined {
  if (url.hostname === 'api.github.com') return { spec: DOTCOM, path: url.pathname };
  if (url.pathname.startsWith('/api/v3/')) return { spec: OLDEST_GHES, path: url.pathname.slice('/api/v3'.length) };
  return undefined;
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const underlying = globalThis.fetch;
if (!(underlying as unknown as Record<symbol, boolean>)[WRAPPED]) {
  const checked = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const github = target(url);
    if (!github) return underlying(input, init);
    const sent = parse(await request.clone().text());
    const res = await underlying(input, init);
    const text = await res.clone().text();
    // a redirect fetch followed (an artifact's zip, a log): GitHub's own answer was the redirect
    const exchange = {
      method: request.method,
      path: github.path,
      query: url.searchParams,
      requestBody: sent,
      status: res.redirected ? 302 : res.status,
      responseBody: res.redirected ? undefined : parse(text),
      responseIsJson: !res.redirected && /json/.test(res.headers.get('content-type') ?? ''),
    };
    if (github.path === '/graphql') {
      found.push(...graphqlProblems(sent, exchange.responseBody));
      return res;
    }
    found.push(...problems(github.spec, exchange));
    if (github.spec === DOTCOM && !operationFor(OLDEST_GHES, request.method, github.path))
      found.push(`${request.method} ${github.path}: not an operation of ${OLDEST_GHES}, which ost-gate supports`);
    return res;
  };
  Object.assign(checked, { [WRAPPED]: true });
  globalThis.fetch = checked as typeof fetch;
}

afterEach(() => {
  const seen = found.splice(0);
  expect(seen, "GitHub requests or mock answers that GitHub's OpenAPI description rejects").toEqual([]);
});
