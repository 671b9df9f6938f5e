// The `github-actions` dispatcher: starts the OST workflow with workflow_dispatch and the contract
// inputs; results come back as `workflow_run.completed` webhooks (see hosts/github/app.ts).
import type { DispatchSpec, Run, RunStatus } from '../core/index.ts';
import type { DispatchContext, Dispatcher } from '../engine/effects.ts';
import { silentLogger, type Logger } from '../log.ts';
import { contractValues } from './contract.ts';

/** The slice of Octokit this dispatcher uses. */
export interface RequestOctokit {
  request(route: string, params?: Record<string, unknown>): Promise<{ status: number; data: unknown }>;
}

export type OctokitFor = (repo: string) => Promise<RequestOctokit>;

/** `conclusion` of a completed workflow run -> run status: success passes, failure fails, anything else is an infra error. */
export function conclusionStatus(conclusion: string | null | undefined): RunStatus {
  if (conclusion === 'success') return 'success';
  if (conclusion === 'failure') return 'failure';
  return 'error';
}

export class GithubActionsDispatcher implements Dispatcher {
  constructor(
    private readonly octokitFor: OctokitFor,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Set once this GitHub refused `return_run_details` (an older GHES): not asked for again. */
  private withoutRunDetails = false;

  private target(ctx: DispatchContext, end?: string) {
    const ci = ctx.file.ci;
    const repo = ci?.repository;
    if (!repo || !ci?.workflow)
      throw new Error(`queue ${ctx.queue} has no ci.workflow or repository for github-actions`);
    const branch = end ? ctx.file.state.changes[end]?.branch : undefined;
    const [owner, name] = repo.split('/') as [string, string];
    return { owner, name, repo, workflow: ci.workflow, ref: ci.ref ?? branch ?? 'main', inputs: ci.inputs ?? {} };
  }

  async dispatch(run: DispatchSpec, ctx: DispatchContext): Promise<{ url?: string | null; ciRunId?: number | null }> {
    const t = this.target(ctx, run.end);
    const octokit = await this.octokitFor(t.repo);
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.inputs)) inputs[k] = String(v);
    Object.assign(inputs, contractValues(run));
    const params = { owner: t.owner, repo: t.name, workflow_id: t.workflow, ref: t.ref, inputs };
    const route = 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
    if (this.withoutRunDetails) {
      await octokit.request(route, params);
      return {};
    }
    try {
      const res = await octokit.request(route, { ...params, return_run_details: true });
      const data = (res.data ?? {}) as { workflow_run_id?: number; html_url?: string; run_url?: string };
      return { ciRunId: data.workflow_run_id ?? null, url: data.html_url ?? null };
    } catch (err) {
      const e = err as { status?: number; message?: string };
      if (e.status !== 422 || !/return_run_details/i.test(e.message ?? '')) throw err;
      // An older GitHub Enterprise Server: no run details; runs are matched by the key in their title.
      // Remembered, so that later dispatches do not ask (and get refused) again.
      this.withoutRunDetails = true;
      this.log.info(
        { key: run.key },
        'workflow_dispatch without return_run_details (not supported by this GitHub); matching runs by their title',
      );
      await octokit.request(route, params);
      return {};
    }
  }

  async cancel(key: string, ctx: DispatchContext): Promise<void> {
    const run = ctx.file.state.runs[key];
    if (!run?.ciRunId) return;
    const t = this.target(ctx);
    try {
      const octokit = await this.octokitFor(t.repo);
      await octokit.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', {
        owner: t.owner,
        repo: t.name,
        run_id: run.ciRunId,
      });
    } catch (err) {
      this.log.info({ key, err: (err as Error).message }, 'could not cancel the workflow run (best effort)');
    }
  }

  /** After a restart, asks GitHub for runs whose result webhook may have been missed. */
  async resume(run: Run, ctx: DispatchContext): Promise<void> {
    if (!run.ciRunId) return;
    const t = this.target(ctx);
    const octokit = await this.octokitFor(t.repo);
    const res = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', {
      owner: t.owner,
      repo: t.name,
      run_id: run.ciRunId,
    });
    const data = res.data as { status?: string; conclusion?: string | null; html_url?: string };
    if (data.status !== 'completed') return;
    await ctx.submit(
      ctx.queue,
      {
        type: 'run-finished',
        at: ctx.now(),
        key: run.key,
        status: conclusionStatus(data.conclusion),
        url: data.html_url ?? null,
      },
      `workflow-run:${run.ciRunId}:completed`,
    );
  }
}
