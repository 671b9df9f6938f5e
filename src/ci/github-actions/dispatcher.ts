// The `github-actions` dispatcher: starts the OST workflow with workflow_dispatch and the contract
// inputs; results come back as `workflow_run.completed` webhooks (hosts/github/handlers/
// workflow-run.ts). A run is found by its key in the title of the workflow's dispatched runs (the
// workflow's run-name carries ost_key): before it is sent again after a crash, and on a GitHub
// Enterprise Server whose dispatch returns no run id, so that cancel and resume work there too.
import type { DispatchSpec, Run, RunStatus } from '../../core/index.ts';
import type { DispatchContext, Dispatcher } from '../../engine/effects.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { contractValues } from '../contract.ts';
import type { QueueCi } from '../../config/repo.ts';
import { ciField } from '../kind.ts';
import { failedRunTests } from './results-artifact.ts';

/** The slice of Octokit the GitHub host uses. */
export interface RequestOctokit {
  request(route: string, params?: Record<string, unknown>): Promise<{ status: number; data: unknown }>;
  /**
   * A GraphQL request (@octokit/graphql): to `/graphql`, or on GitHub Enterprise Server to
   * `/api/graphql`, which is not under the REST API's `/api/v3`. Throws when the answer has errors.
   */
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export type OctokitFor = (repo: string) => Promise<RequestOctokit>;

/** `conclusion` of a completed workflow run -> run status: success passes, failure fails, anything else is an infra error. */
export function conclusionStatus(conclusion: string | null | undefined): RunStatus {
  if (conclusion === 'success') return 'success';
  if (conclusion === 'failure') return 'failure';
  return 'error';
}

/** Dispatched runs of the workflow looked through for a key. */
const RUNS_SEARCHED = 50;

interface WorkflowRun {
  id: number;
  html_url?: string;
  display_title?: string;
  status?: string;
  conclusion?: string | null;
}

/** Whether a run's title names `key` (as a whole word: `q.1-ab` is not in `q.11-ab`). */
function titleHasKey(title: string | undefined, key: string): boolean {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.-])${escaped}($|[^\\w.-])`).test(title ?? '');
}

/** Where a github-actions queue's runs go, as a run records it: `github-actions:<repo>:<workflow>`. */
export function githubActionsTarget(ci: QueueCi): string {
  return `github-actions:${ci.repository ?? ''}:${ciField(ci, 'workflow') ?? ''}`;
}

export class GithubActionsDispatcher implements Dispatcher {
  /**
   * @param lookups how long to wait, in ms, before each look for the id of a run dispatched without
   * run details (GitHub creates the run a few seconds after the dispatch)
   */
  constructor(
    private readonly octokitFor: OctokitFor,
    private readonly log: Logger = silentLogger,
    private readonly lookups: number[] = [2_000, 4_000, 8_000, 16_000, 30_000],
  ) {}

  /** The newest dispatched run of the queue's workflow whose title carries `key`, or null. */
  private async findRun(ctx: DispatchContext, key: string): Promise<WorkflowRun | null> {
    const t = this.workflowOf(ctx);
    const octokit = await this.octokitFor(t.repo);
    const res = await octokit.request('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', {
      owner: t.owner,
      repo: t.name,
      workflow_id: t.workflow,
      event: 'workflow_dispatch',
      per_page: RUNS_SEARCHED,
    });
    const runs = (res.data as { workflow_runs?: WorkflowRun[] }).workflow_runs ?? [];
    return runs.find((r) => titleHasKey(r.display_title, key)) ?? null;
  }

  /** Whether a dispatch of `key` took before a crash: the workflow has a run with the key in its title. */
  async wasDispatched(key: string, ctx: DispatchContext): Promise<boolean> {
    return (await this.findRun(ctx, key)) !== null;
  }

  /** Looks for the id of a run dispatched without run details, and records it once GitHub shows the run. */
  private async learnRunId(key: string, ctx: DispatchContext): Promise<void> {
    for (const wait of this.lookups) {
      await new Promise((r) => setTimeout(r, wait));
      try {
        const found = await this.findRun(ctx, key);
        if (!found) continue;
        await ctx.submit(ctx.queue, {
          type: 'run-started',
          at: ctx.now(),
          key,
          url: found.html_url ?? null,
          ciRunId: found.id,
        });
        return;
      } catch (err) {
        this.log.info({ key, err: (err as Error).message }, 'could not look up the workflow run of a dispatch');
      }
    }
    this.log.warn(
      { key },
      'no workflow run shows this key in its title: check that the workflow sets run-name to include inputs.ost_key',
    );
  }

  /** Set once this GitHub refused `return_run_details` (an older GHES): not asked for again. */
  private withoutRunDetails = false;

  /** The workflow a queue's runs start, and where: its repository, file, ref and inputs. */
  private workflowOf(ctx: DispatchContext, end?: string) {
    const ci = ctx.file.ci;
    const repo = ci?.repository;
    const workflow = ciField(ci, 'workflow');
    if (!repo || !workflow) throw new Error(`queue ${ctx.queue} has no ci.workflow or repository for github-actions`);
    const branch = end ? ctx.file.state.changes[end]?.branch : undefined;
    const [owner, name] = repo.split('/') as [string, string];
    const ref = ciField(ci, 'ref') ?? branch ?? 'main';
    return { owner, name, repo, workflow, ref, inputs: ci.inputs ?? {} };
  }

  target(ci: QueueCi): string {
    return githubActionsTarget(ci);
  }

  async dispatch(run: DispatchSpec, ctx: DispatchContext): Promise<{ url?: string | null; ciRunId?: number | null }> {
    const t = this.workflowOf(ctx, run.end);
    const octokit = await this.octokitFor(t.repo);
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.inputs)) inputs[k] = String(v);
    Object.assign(inputs, contractValues(run));
    const params = { owner: t.owner, repo: t.name, workflow_id: t.workflow, ref: t.ref, inputs };
    const route = 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches';
    if (this.withoutRunDetails) {
      await octokit.request(route, params);
      void this.learnRunId(run.key, ctx);
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
      void this.learnRunId(run.key, ctx);
      return {};
    }
  }

  async cancel(key: string, ctx: DispatchContext): Promise<void> {
    const run = ctx.file.state.runs[key];
    if (!run?.ciRunId) return;
    const t = this.workflowOf(ctx);
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

  /**
   * After a restart, asks GitHub for runs whose result webhook may have been missed; a run without an
   * id (sent just before a crash, or on a GitHub that returns none) is found by its key.
   */
  async resume(run: Run, ctx: DispatchContext): Promise<void> {
    const t = this.workflowOf(ctx);
    let data: WorkflowRun | null;
    if (run.ciRunId) {
      const octokit = await this.octokitFor(t.repo);
      const res = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', {
        owner: t.owner,
        repo: t.name,
        run_id: run.ciRunId,
      });
      data = res.data as WorkflowRun;
    } else {
      data = await this.findRun(ctx, run.key);
      if (!data) return;
      await ctx.submit(ctx.queue, {
        type: 'run-started',
        at: ctx.now(),
        key: run.key,
        url: data.html_url ?? null,
        ciRunId: data.id,
      });
    }
    if (data.status !== 'completed') return;
    const status = conclusionStatus(data.conclusion);
    const tests =
      status === 'failure'
        ? await failedRunTests(await this.octokitFor(t.repo), { repo: t.repo, runId: data.id, key: run.key }, this.log)
        : null;
    await ctx.submit(
      ctx.queue,
      {
        type: 'run-finished',
        at: ctx.now(),
        key: run.key,
        status,
        url: data.html_url ?? null,
        ...(tests ? { tests } : {}),
      },
      `workflow-run:${run.ciRunId ?? data.id}:completed`,
    );
  }
}
