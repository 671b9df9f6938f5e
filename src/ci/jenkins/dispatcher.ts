// The `jenkins` dispatcher: buildWithParameters with OST_KEY, OST_REFS, OST_CHANGES, OST_CALLBACK_URL
// and the config inputs, through the client (client.ts: authentication, crumbs, retries). The queue item is followed until the build appears (its URL is
// recorded), and when no signed callback has come by the time the build ends, the build's result is
// read instead: SUCCESS passes, FAILURE fails, anything else is an error. A run is found by its OST_KEY
// parameter in Jenkins' queue and the job's recent builds: before it is sent again after a crash, and
// when Jenkins no longer remembers its queue item (it keeps left items for 300 s).
import type { DispatchSpec, Run, RunStatus } from '../../core/index.ts';
import type { DispatchContext, Dispatcher } from '../../engine/effects.ts';
import { buildTests } from './test-report.ts';
import type { TestResults } from '../test-results.ts';
import { ResponseError } from '../../http/fetch.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { contractValues } from '../contract.ts';
import type { QueueCi } from '../../config/repo.ts';
import { ciField } from '../kind.ts';
import { JenkinsClient } from './client.ts';

export interface JenkinsOptions {
  url: string;
  user?: string | undefined;
  token?: string | undefined;
  /** Where the job posts its result (`OST_PUBLIC_URL` + /api/ci/callback). */
  callbackUrl?: string | undefined;
  pollMs?: number;
  log?: Logger;
  /** Smallest wait between HTTP retries (tests use a small one). */
  minTimeout?: number;
}

/** Recent builds of the job searched for a run's OST_KEY. */
const BUILDS_SEARCHED = 100;

interface WithParameters {
  actions?: ({ parameters?: { name?: string; value?: unknown }[] } | null)[];
}

function hasKey(entry: WithParameters, key: string): boolean {
  return (entry.actions ?? []).some((a) => a?.parameters?.some((p) => p.name === 'OST_KEY' && p.value === key));
}

export function jenkinsResult(result: string | null | undefined): RunStatus {
  if (result === 'SUCCESS') return 'success';
  if (result === 'FAILURE' || result === 'UNSTABLE') return 'failure';
  return 'error';
}

/** `folder/sub/job` -> `job/folder/job/sub/job/job`, each part URL-encoded. */
export function jobPath(job: string): string {
  return job
    .split('/')
    .filter(Boolean)
    .map((p) => `job/${encodeURIComponent(p)}`)
    .join('/');
}

/** Where a jenkins queue's runs go, as a run records it: `jenkins:<job>`. */
export function jenkinsTarget(ci: QueueCi): string {
  return `jenkins:${ciField(ci, 'job') ?? ''}`;
}

export class JenkinsDispatcher implements Dispatcher {
  private readonly base: string;
  private readonly client: JenkinsClient;
  private readonly log: Logger;
  private readonly following = new Set<string>();
  private stopped = false;

  /** Stops following builds (server shutdown); their results still arrive by callback or after a restart. */
  stop(): void {
    this.stopped = true;
  }

  constructor(private readonly opts: JenkinsOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.log = opts.log ?? silentLogger;
    this.client = new JenkinsClient({ ...opts, log: this.log });
  }

  /**
   * Where the run with OST_KEY `key` is in Jenkins, if anywhere: its queue item (still waiting) or its
   * build (among the job's recent builds).
   */
  async findByKey(job: string, key: string): Promise<{ queueItem?: string; build?: string } | null> {
    const queue = await this.client.fetchJson<{ items?: (WithParameters & { url?: string })[] }>(
      `${this.base}/queue/api/json?tree=items[url,actions[parameters[name,value]]]`,
    );
    const waiting = (queue.items ?? []).find((i) => hasKey(i, key));
    if (waiting?.url) return { queueItem: `${this.base}/${waiting.url.replace(/^\/+|\/+$/g, '')}` };
    const builds = await this.client.fetchJson<{ builds?: (WithParameters & { url?: string })[] }>(
      `${this.base}/${jobPath(job)}/api/json?tree=builds[url,actions[parameters[name,value]]]{0,${BUILDS_SEARCHED}}`,
    );
    const built = (builds.builds ?? []).find((b) => hasKey(b, key));
    return built?.url ? { build: built.url.replace(/\/+$/, '') } : null;
  }

  /** Whether a dispatch of `key` took before a crash: Jenkins has it queued or built. */
  async wasDispatched(key: string, ctx: DispatchContext): Promise<boolean> {
    const job = ciField(ctx.file.ci, 'job');
    if (!job) return false;
    return (await this.findByKey(job, key)) !== null;
  }

  target(ci: QueueCi): string {
    return jenkinsTarget(ci);
  }

  async dispatch(run: DispatchSpec, ctx: DispatchContext): Promise<{ ciRunId: string; url?: string | null }> {
    const job = ciField(ctx.file.ci, 'job');
    if (!job) throw new Error(`queue ${ctx.queue} has no ci.job for jenkins`);
    const v = contractValues(run);
    const params = new URLSearchParams();
    for (const [k, val] of Object.entries(ctx.file.ci?.inputs ?? {})) params.set(k, String(val));
    params.set('OST_KEY', v.ost_key);
    params.set('OST_REFS', v.ost_refs);
    params.set('OST_CHANGES', v.ost_changes);
    if (this.opts.callbackUrl) params.set('OST_CALLBACK_URL', this.opts.callbackUrl);
    const url = `${this.base}/${jobPath(job)}/buildWithParameters`;
    const res = await this.client.post(url, params.toString());
    if (res.status !== 201 && res.status !== 200)
      throw new Error(`Jenkins buildWithParameters for ${job} answered ${res.status}`);
    const location = res.headers.get('location');
    if (!location) throw new Error(`Jenkins queued ${job} but gave no queue item Location`);
    const queueItem = location.replace(/\/+$/, '');
    void this.follow(run.key, queueItem, null, ctx);
    return { ciRunId: queueItem };
  }

  /** Follows a queue item to its build, records the build URL, and reads the result when the build ends. */
  private async follow(
    key: string,
    queueItem: string | null,
    buildUrl: string | null,
    ctx: DispatchContext,
  ): Promise<void> {
    if (this.following.has(key)) return;
    this.following.add(key);
    const pollMs = this.opts.pollMs ?? 15_000;
    const sleep = () => new Promise((r) => setTimeout(r, pollMs));
    try {
      let url = buildUrl;
      while (!url && queueItem && !this.stopped) {
        const item = await this.queueItem(queueItem, key, ctx);
        if (item.cancelled) {
          await ctx.submit(
            ctx.queue,
            { type: 'run-finished', at: ctx.now(), key, status: 'cancelled' },
            `jenkins:${key}:cancelled`,
          );
          return;
        }
        url = item.executable?.url?.replace(/\/+$/, '') ?? null;
        if (!url) await sleep();
      }
      if (!url || this.stopped) return;
      await ctx.submit(
        ctx.queue,
        { type: 'run-started', at: ctx.now(), key, url: `${url}/`, ciRunId: queueItem ?? url },
        `jenkins:${key}:started`,
      );
      while (!this.stopped) {
        const build = await this.client.fetchJson<{ building: boolean; result: string | null }>(
          `${url}/api/json?tree=building,result`,
        );
        if (!build.building && build.result !== null) {
          const status = jenkinsResult(build.result);
          const tests = status === 'error' ? null : await this.testsOf(key, url);
          // a callback may have come first; then this result is stale and the core ignores it
          await ctx.submit(
            ctx.queue,
            {
              type: 'run-finished',
              at: ctx.now(),
              key,
              status,
              url: `${url}/`,
              ...(tests ? { tests } : {}),
              ...(status === 'error' ? { reason: `Jenkins build ended ${build.result}` } : {}),
            },
            `jenkins:${key}:finished`,
          );
          return;
        }
        await sleep();
      }
    } catch (err) {
      if (this.stopped) return;
      this.log.error({ key, err: (err as Error).message }, 'lost track of a Jenkins build; counted as an infra error');
      const reason = `lost track of the Jenkins build: ${(err as Error).message}`;
      await ctx.submit(
        ctx.queue,
        { type: 'run-finished', at: ctx.now(), key, status: 'error', reason },
        `jenkins:${key}:lost`,
      );
    } finally {
      this.following.delete(key);
    }
  }

  /** The build's test report, or null (none published, or unreadable: logged, and the run keeps one bit). */
  private async testsOf(key: string, buildUrl: string): Promise<TestResults | null> {
    try {
      return await buildTests(this.client, buildUrl);
    } catch (err) {
      this.log.warn({ key, err: (err as Error).message }, 'could not read the Jenkins test report; one bit kept');
      return null;
    }
  }

  /**
   * A queue item as Jenkins shows it; one Jenkins no longer remembers (404: it left the queue over
   * 300 s ago) is found among the job's builds by its OST_KEY.
   */
  private async queueItem(
    queueItem: string,
    key: string,
    ctx: DispatchContext,
  ): Promise<{ executable?: { url?: string } | null; cancelled?: boolean }> {
    try {
      return await this.client.fetchJson(`${queueItem}/api/json`);
    } catch (err) {
      const job = ciField(ctx.file.ci, 'job');
      if (!(err instanceof ResponseError) || err.status !== 404 || !job) throw err;
      const found = await this.findByKey(job, key);
      if (found?.build) return { executable: { url: found.build } };
      throw new Error(`Jenkins forgot queue item ${queueItem}, and no recent build of ${job} has OST_KEY ${key}`, {
        cause: err,
      });
    }
  }

  async resume(run: Run, ctx: DispatchContext): Promise<void> {
    let build = run.url ? run.url.replace(/\/+$/, '') : null;
    let item = typeof run.ciRunId === 'string' ? run.ciRunId : null;
    const job = ciField(ctx.file.ci, 'job');
    if (!build && !item && job) {
      // sent just before a crash, before its queue item was recorded: found by its key
      const found = await this.findByKey(job, run.key);
      build = found?.build ?? null;
      item = found?.queueItem ?? null;
    }
    if (!build && !item) return;
    void this.follow(run.key, item, build, ctx);
  }

  /**
   * Best-effort stop of a run: a started build gets `/stop`; a build still waiting in Jenkins' queue is
   * taken out of it with `/queue/cancelItem?id=N`, so that it never holds an executor later.
   */
  async cancel(key: string, ctx: DispatchContext): Promise<void> {
    const run = Object.hasOwn(ctx.file.state.runs, key) ? ctx.file.state.runs[key] : undefined;
    const item = typeof run?.ciRunId === 'string' ? run.ciRunId : null;
    const queued = item ? /\/queue\/item\/(\d+)\/?$/.exec(item)?.[1] : undefined;
    try {
      if (run?.url) return void (await this.stopBuild(run.url));
      if (!queued || !item) return;
      const res = await this.client.post(`${this.base}/queue/cancelItem?id=${queued}`);
      if (res.status !== 404) return;
      // it left the queue as the cancel was sent: its build is stopped instead
      const started = await this.queueItem(item, key, ctx);
      if (started.executable?.url) await this.stopBuild(started.executable.url);
    } catch (err) {
      this.log.info({ key, err: (err as Error).message }, 'could not stop the Jenkins build (best effort)');
    }
  }

  private async stopBuild(url: string): Promise<void> {
    await this.client.post(`${url.replace(/\/+$/, '')}/stop`);
  }
}
