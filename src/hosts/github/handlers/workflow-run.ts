// workflow_run.completed: the result of a run dispatched to GitHub Actions, matched by the run's id or
// by the run key in its title, accepted only from the repository and workflow it was sent to; a failed
// run's failing tests come from its `ost-results` artifact.
import type { Context } from 'probot';
import type { CoreEvent, Run } from '../../../core/index.ts';
import { conclusionStatus, type RequestOctokit } from '../../../ci/github-actions/dispatcher.ts';
import { failedRunTests } from '../../../ci/github-actions/results-artifact.ts';
import { dispatchTarget } from '../../../ci/index.ts';
import type { QueueCi } from '../../../config/repo.ts';
import { httpUrl } from '../../../http/url.ts';
import { malformed, type GithubApp } from '../repository.ts';

interface CompletedRun {
  id: number;
  display_title?: string;
  conclusion: string | null;
  html_url: string;
  path?: string;
}

export async function onWorkflowRun(app: GithubApp, context: Context<'workflow_run.completed'>): Promise<void> {
  const run = context.payload?.workflow_run as CompletedRun | undefined;
  const repo = context.payload?.repository?.full_name;
  if (!run || run.id === undefined || typeof repo !== 'string') return malformed(app, context, 'workflow_run missing');
  const found = await ourRun(app, run);
  if (!found) {
    app.common.log.info({ run: run.id, title: run.display_title }, 'workflow_run for no known ost-gate run ignored');
    return;
  }
  const refusal = workflowRunRefusal(found.run, found.file.ci, { repo, id: run.id, path: run.path });
  if (refusal) {
    app.common.log.warn({ run: run.id, repo, key: found.run.key }, `workflow_run refused: ${refusal}`);
    return;
  }
  const status = conclusionStatus(run.conclusion);
  const octokit = context.octokit as unknown as RequestOctokit;
  const where = { repo, runId: run.id, key: found.run.key };
  const tests = status === 'failure' ? await failedRunTests(octokit, where, app.common.log) : null;
  const event: CoreEvent = {
    type: 'run-finished',
    at: app.common.now(),
    key: found.run.key,
    status,
    url: httpUrl(run.html_url),
    ...(tests ? { tests } : {}),
  };
  await app.deps.engine.submit(found.queue, event, { delivery: `github:${context.id}` });
}

/** The ost-gate run a workflow run is: by its id, else by a run key in its title. */
async function ourRun(app: GithubApp, run: CompletedRun) {
  const keys = (run.display_title ?? '').split(/\s+/).filter((w) => w.includes('.'));
  let found = await app.deps.engine.reads.run({ ciRunId: run.id });
  for (const key of keys) found ??= await app.deps.engine.reads.run({ key });
  return found;
}

/**
 * Why a completed workflow run may not report the result of `run`, or null when it may: it must come
 * from the repository and workflow the run was dispatched to, and be the very run when its id is known.
 */
export function workflowRunRefusal(
  run: Run,
  ci: QueueCi | null | undefined,
  from: { repo: string; id: number; path?: string | undefined },
): string | null {
  const target = run.target ?? dispatchTarget(ci);
  const [provider, repository, workflow] = target.split(':');
  if (provider !== 'github-actions') return `run ${run.key} was sent to ${target}, not to GitHub Actions`;
  if (repository?.toLowerCase() !== from.repo.toLowerCase())
    return `run ${run.key} was sent to ${repository}, and this workflow run is from ${from.repo}`;
  if (from.path && workflow && from.path.split('/').pop() !== workflow)
    return `run ${run.key} was sent to the workflow ${workflow}, not ${from.path}`;
  if (run.ciRunId !== undefined && run.ciRunId !== null && String(run.ciRunId) !== String(from.id))
    return `run ${run.key} is workflow run ${run.ciRunId}, not ${from.id}`;
  return null;
}
