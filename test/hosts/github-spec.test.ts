// The spec check every GitHub test runs under (test/helpers/github-spec-guard.ts) catches what GitHub
// would refuse or never send: these cases hold the checker itself to account.
import { describe, expect, it } from 'vitest';
import { checkRun } from '../helpers/github-answers.ts';
import { DOTCOM, OLDEST_GHES, problems, type Exchange } from '../helpers/github-spec.ts';

const exchange = (fields: Partial<Exchange>): Exchange => ({
  method: 'GET',
  path: '/repos/o/r/issues/3/comments',
  query: new URLSearchParams(),
  requestBody: undefined,
  status: 200,
  responseBody: [],
  responseIsJson: true,
  ...fields,
});
const dispatch = '/repos/o/r/actions/workflows/ost.yml/dispatches';

describe("the check against GitHub's OpenAPI description", () => {
  it('passes a documented request with a documented answer', () => {
    expect(problems(DOTCOM, exchange({}))).toEqual([]);
  });

  it('names an operation GitHub does not have', () => {
    expect(problems(DOTCOM, exchange({ path: '/repos/o/r/no-such-thing' }))).toEqual([
      'api.github.com: GET /repos/o/r/no-such-thing: no such operation',
    ]);
  });

  it('names a query parameter the operation does not declare (the old findComment leak)', () => {
    const query = new URLSearchParams({ commit_sha: 'abc', issue_number: 'null' });
    expect(problems(DOTCOM, exchange({ query })).join('\n')).toMatch(/query parameter commit_sha is not declared/);
  });

  it('names a mock answer that lacks fields GitHub always sends', () => {
    const path = '/repos/o/r/check-runs';
    const created = problems(
      DOTCOM,
      exchange({
        method: 'POST',
        path,
        requestBody: { name: 'x', head_sha: 'a' },
        status: 201,
        responseBody: { id: 1 },
      }),
    );
    expect(created.join('\n')).toMatch(/the mock's 201 answer does not match the spec .*required property 'node_id'/);
    const full = checkRun({ id: 1 });
    expect(
      problems(
        DOTCOM,
        exchange({ method: 'POST', path, requestBody: { name: 'x', head_sha: 'a' }, status: 201, responseBody: full }),
      ),
    ).toEqual([]);
  });

  it('names a status the operation does not document', () => {
    const out = problems(
      DOTCOM,
      exchange({ method: 'POST', path: dispatch, requestBody: { ref: 'main' }, status: 201, responseBody: {} }),
    );
    expect(out.join('\n')).toMatch(/answers 201, which .* does not document/);
  });

  it('lets only a 422 or 400 answer a body the spec rejects: return_run_details on GHES', () => {
    const body = { ref: 'main', inputs: {}, return_run_details: true };
    const accepted = problems(
      OLDEST_GHES,
      exchange({ method: 'POST', path: dispatch, requestBody: body, status: 204, responseBody: undefined }),
    );
    expect(accepted.join('\n')).toMatch(/undeclared field\(s\) return_run_details\), yet the mock answered 204/);
    const rejected = { message: 'Invalid request.' };
    expect(
      problems(
        OLDEST_GHES,
        exchange({ method: 'POST', path: dispatch, requestBody: body, status: 422, responseBody: rejected }),
      ),
    ).toEqual([]);
    // github.com knows the field
    expect(
      problems(
        DOTCOM,
        exchange({ method: 'POST', path: dispatch, requestBody: body, status: 204, responseBody: undefined }),
      ),
    ).toEqual([]);
  });

  it('names a dispatch with more inputs than the spec allows', () => {
    const inputs = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    const out = problems(
      OLDEST_GHES,
      exchange({
        method: 'POST',
        path: dispatch,
        requestBody: { ref: 'main', inputs },
        status: 204,
        responseBody: undefined,
      }),
    );
    expect(out.join('\n')).toMatch(/must NOT have more than 10 properties/);
  });
});
