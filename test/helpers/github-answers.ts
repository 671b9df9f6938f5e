// Mock answers for the GitHub API, built from the examples in GitHub's OpenAPI description so that a
// stand-in answers with every field the real service sends; each takes the fields a test cares about.
import type nock from 'nock';
import { documentedAnswer, type SpecName } from './github-spec.ts';

type Fields = Record<string, unknown>;

export const issueComment = (fields: Fields) =>
  documentedAnswer('GET /repos/{owner}/{repo}/issues/comments/{comment_id}', 200, fields);

export const commitComment = (fields: Fields) =>
  documentedAnswer('GET /repos/{owner}/{repo}/comments/{comment_id}', 200, fields);

export const checkRun = (fields: Fields) =>
  documentedAnswer('GET /repos/{owner}/{repo}/check-runs/{check_run_id}', 200, fields);

export const checkRunList = (runs: Fields[] = []) => ({ total_count: runs.length, check_runs: runs.map(checkRun) });

/** A merged pull request: `base` is the branch name it merged into and `login` its author. */
export function pullRequest(fields: Fields & { base?: string; login?: string }): Fields {
  const { base, login, ...rest } = fields;
  const pr = documentedAnswer<Fields>('GET /repos/{owner}/{repo}/pulls/{pull_number}', 200, {
    merged: true,
    merged_at: '2026-11-24T10:00:00Z',
    body: null,
    ...rest,
  });
  if (base) pr.base = { ...(pr.base as Fields), ref: base };
  if (login) pr.user = { ...(pr.user as Fields), login };
  return pr;
}

/** The answer to a dispatch that asked for run details (github.com). */
export const dispatchDetails = (id: number) =>
  documentedAnswer('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', 200, {
    workflow_run_id: id,
    run_url: `https://api.github.com/repos/Codertocat/Hello-World/actions/runs/${id}`,
    html_url: `https://github.com/Codertocat/Hello-World/actions/runs/${id}`,
  });

export const workflowRun = (fields: Fields) =>
  documentedAnswer('GET /repos/{owner}/{repo}/actions/runs/{run_id}', 200, fields);

export const installationToken = (spec?: SpecName) =>
  documentedAnswer('POST /app/installations/{installation_id}/access_tokens', 201, { token: 'ghs_test' }, spec);

export const repoInstallation = (id: number) => documentedAnswer('GET /repos/{owner}/{repo}/installation', 200, { id });

export function collaboratorPermission(permission: string, login = 'dev'): Fields {
  const answer = documentedAnswer<Fields>('GET /repos/{owner}/{repo}/collaborators/{username}/permission', 200);
  return {
    ...answer,
    permission,
    role_name: permission,
    user: { ...(answer.user as Fields), login, role_name: permission },
  };
}

/** GitHub's documented error answer: a message and where its documentation is. */
export const githubError = (message: string) => ({ message, documentation_url: 'https://docs.github.com/rest' });

/**
 * Check runs as GitHub keeps them: created by POST, listed per commit (and name), updated by PATCH.
 * Returns the live list, so a test can see every check run's last state.
 */
export function checkRunsStandIn(api: nock.Scope): Fields[] {
  const runs: Fields[] = [];
  const shaped = (id: number, body: Fields, before: Fields = checkRun({ conclusion: null })) => ({
    ...before,
    ...body,
    id,
    output: { ...(before.output as Fields), ...(body.output as Fields | undefined) },
  });
  api.get(/\/commits\/\w+\/check-runs/).reply((uri) => {
    const url = new URL(uri, 'https://api.github.com');
    const sha = /\/commits\/(\w+)\/check-runs/.exec(url.pathname)![1];
    const name = url.searchParams.get('check_name');
    return [200, listOf(runs, sha, name)];
  });
  api.post(/\/check-runs$/).reply((_uri, body) => {
    runs.push(shaped(runs.length + 1, body as Fields));
    return [201, runs.at(-1)!];
  });
  api.patch(/\/check-runs\/\d+$/).reply((uri, body) => {
    const i = Number(/check-runs\/(\d+)$/.exec(uri)![1]) - 1;
    if (!runs[i]) return [404, githubError('Not Found')];
    runs[i] = shaped(i + 1, body as Fields, runs[i]);
    return [200, runs[i]];
  });
  return runs;
}

function listOf(runs: Fields[], sha: string | undefined, name: string | null) {
  const found = runs.filter((r) => r.head_sha === sha && (name === null || r.name === name));
  return { total_count: found.length, check_runs: found };
}

/**
 * GitHub answering what the app writes while a queue runs and commands are given: dispatches (with
 * run details), new check runs and comments, an empty list of existing ones, and the commenter's
 * `permission`.
 */
export function answerQueueWrites(api: nock.Scope, permission: string): void {
  api.post(/dispatches/).reply(200, dispatchDetails(7000));
  api.get(/check-runs/).reply(200, checkRunList());
  api.post(/check-runs/).reply(201, checkRun({ id: 1 }));
  api.get(/\/issues\/\d+\/comments/).reply(200, []);
  api.post(/\/issues\/\d+\/comments/).reply(201, issueComment({ id: 1 }));
  api.get(/\/collaborators\/[^/]+\/permission/).reply(200, collaboratorPermission(permission));
}
