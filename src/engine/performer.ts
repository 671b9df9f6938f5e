// Routes each outbox entry to the dispatcher of the queue's CI provider, or the reporter or reverter of
// the change's host.
import type { DispatchSpec, Effect, RevertEffect, Run, TryResultEffect, TryTarget } from '../core/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import {
  buildVerdictReport,
  changePageUrl,
  changeTarget,
  labelerOf,
  logKeptHere,
  runLogPath,
  type ChangeLabeler,
} from '../report/model.ts';
import type { DispatchContext, Dispatcher, MessageSender, Performer, Reporter, Reverter } from './effects.ts';

export interface RoutingPerformerOptions {
  /** By provider: `github-actions`, `jenkins`, `webhook:<name>`, `command:<name>`. */
  dispatchers: Record<string, Dispatcher>;
  /** By host: `github`, `gerrit`, `git`. */
  reporters: Record<string, Reporter>;
  /** By host: who opens the revert of a culprit (`revert.auto`). */
  reverters?: Record<string, Reverter>;
  /** How each host labels a change in messages (`#12`, `change 12`); by host. */
  labels?: Record<string, ChangeLabeler>;
  /** The server's public URL, for dashboard links in messages. */
  publicUrl?: string | undefined;
  /** Sends mail and chat effects; without it they are dropped with a warning (no email: or channels:). */
  messages?: MessageSender | undefined;
  log?: Logger;
}

export class RoutingPerformer implements Performer {
  private readonly log: Logger;

  constructor(private readonly opts: RoutingPerformerOptions) {
    this.log = opts.log ?? silentLogger;
  }

  private dispatcher(ctx: DispatchContext): Dispatcher | undefined {
    const provider = ctx.file.ci?.provider;
    return provider && Object.hasOwn(this.opts.dispatchers, provider) ? this.opts.dispatchers[provider] : undefined;
  }

  private reporter(ctx: DispatchContext, change: string): Reporter | undefined {
    const record = Object.hasOwn(ctx.file.state.changes, change) ? ctx.file.state.changes[change] : undefined;
    const host = record?.host ?? change.split(':')[0] ?? '';
    return Object.hasOwn(this.opts.reporters, host) ? this.opts.reporters[host] : undefined;
  }

  async perform(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<void | { refused: string }> {
    const e = entry.effect;
    switch (e.type) {
      case 'dispatch':
        return this.dispatch(e, ctx);
      case 'cancel':
        await this.dispatcher(ctx)?.cancel?.(e.key, ctx);
        return;
      case 'report': {
        this.log.info(
          { queue: ctx.queue, change: e.change, verdict: e.verdict.verdict, culprit: e.verdict.culprit },
          `verdict ${e.verdict.verdict} for ${e.change}`,
        );
        const labelOf = labelerOf(this.opts.labels);
        const report = buildVerdictReport(ctx.queue, ctx.file, e.verdict, { labelOf, publicUrl: this.opts.publicUrl });
        await this.reporter(ctx, e.change)?.report(report, entry.key);
        return;
      }
      case 'reply':
        await this.reporter(ctx, e.change)?.reply?.(ctx.queue, e.to, e.message, e.ok);
        return;
      case 'revert':
        return this.revert(e, ctx, entry.key);
      case 'try-result':
        return this.tryResult(e, ctx);
      case 'mail':
      case 'chat':
        if (this.opts.messages) return this.opts.messages.deliver(e, entry.key, ctx);
        this.log.warn(
          { queue: ctx.queue, key: entry.key },
          `a ${e.type} message was decided, but this server sends none`,
        );
        return;
      default:
        return;
    }
  }

  /** Sends a run to the queue's CI and feeds back where it went; a failed dispatch is an infra error of the run. */
  private async dispatch(e: Extract<Effect, { type: 'dispatch' }>, ctx: DispatchContext): Promise<void> {
    const d = this.dispatcher(ctx);
    if (!d) {
      const provider = ctx.file.ci?.provider;
      const reason = provider
        ? `CI provider ${provider} is not configured on this server`
        : 'the queue has no ci.provider in its config';
      this.log.error({ queue: ctx.queue, key: e.run.key }, reason);
      await ctx.submit(ctx.queue, { type: 'run-finished', at: ctx.now(), key: e.run.key, status: 'error', reason });
      return;
    }
    try {
      const started = await d.dispatch(e.run, ctx);
      this.log.info(
        { queue: ctx.queue, key: e.run.key, end: e.run.end, changes: e.run.changes.length },
        'run dispatched',
      );
      // the run records where it went: a result is accepted only from there
      await ctx.submit(ctx.queue, {
        type: 'run-started',
        at: ctx.now(),
        key: e.run.key,
        url: (started && started.url) || null,
        ciRunId: started ? (started.ciRunId ?? null) : null,
        target: (ctx.file.ci && d.target?.(ctx.file.ci)) ?? ctx.file.ci?.provider ?? 'none',
      });
      if (e.run.try) await this.tryStarted(ctx, { ...e.run, try: e.run.try }, (started && started.url) || null);
      // a new batch puts every change in it under test; a probe or confirmation only moves its end
      const marked = e.run.kind === 'batch' ? e.run.changes : [e.run.end];
      for (const id of marked) {
        const change = ctx.file.state.changes[id];
        if (!change) continue;
        await this.reporter(ctx, id)
          ?.runStarted?.(ctx.queue, changeTarget(change), e.run, (started && started.url) || null)
          .catch((err) =>
            this.log.warn(
              { key: e.run.key, change: id, err: (err as Error).message },
              'could not mark the change as under test',
            ),
          );
      }
    } catch (err) {
      this.log.error(
        { queue: ctx.queue, key: e.run.key, err: (err as Error).message },
        'dispatch failed; counted as an infra error',
      );
      await ctx.submit(ctx.queue, {
        type: 'run-finished',
        at: ctx.now(),
        key: e.run.key,
        status: 'error',
        reason: `dispatch failed: ${(err as Error).message}`,
      });
    }
  }

  /** The reporter of the host of a try's open change. */
  private tryReporter(t: TryTarget): Reporter | undefined {
    return Object.hasOwn(this.opts.reporters, t.host) ? this.opts.reporters[t.host] : undefined;
  }

  private async tryStarted(ctx: DispatchContext, run: DispatchSpec & { try: TryTarget }, url: string | null) {
    await this.tryReporter(run.try)
      ?.tryStarted?.(ctx.queue, run, url)
      .catch((err) =>
        this.log.warn(
          { key: run.key, change: run.try.change, err: (err as Error).message },
          'could not mark the try as running',
        ),
      );
  }

  /** Posts a try's result on its change, with a link to its log: the CI's page, or this server's log of a command runner. */
  private async tryResult(e: TryResultEffect, ctx: DispatchContext): Promise<void> {
    const t = e.run.try;
    if (!t) return;
    const { publicUrl } = this.opts;
    const logUrl =
      logKeptHere(e.run, ctx.file.ci?.provider) && publicUrl
        ? `${publicUrl.replace(/\/+$/, '')}${runLogPath(e.run.key)}`
        : (e.run.url ?? null);
    this.log.info(
      { queue: ctx.queue, key: e.run.key, change: t.change, state: e.run.state },
      `try of ${t.change} ended ${e.run.state}`,
    );
    const reporter = this.tryReporter(t);
    if (!reporter?.tryResult) {
      this.log.warn({ queue: ctx.queue, change: t.change }, `no reporter posts try results on ${t.host}`);
      return;
    }
    await reporter.tryResult({ queue: ctx.queue, run: { ...e.run, try: t }, logUrl });
  }

  /** Has the culprit's host revert it (with its guards and words, e.g. hosts/gerrit/revert.ts), or says it cannot. */
  private async revert(e: RevertEffect, ctx: DispatchContext, key: string): Promise<void> {
    const change = Object.hasOwn(ctx.file.state.changes, e.change) ? ctx.file.state.changes[e.change] : undefined;
    const reverter =
      change && Object.hasOwn(this.opts.reverters ?? {}, change.host) ? this.opts.reverters![change.host] : undefined;
    if (!change || !reverter) {
      this.log.warn(
        { queue: ctx.queue, change: e.change },
        `revert.auto is on, but ost-gate cannot open reverts on ${change?.host ?? 'this host'}: revert ${change?.sha ?? e.change} by hand (git revert)`,
      );
      return;
    }
    const pageUrl = this.opts.publicUrl ? changePageUrl(this.opts.publicUrl, e.change) : null;
    await reverter.revert(
      { queue: ctx.queue, culprit: { ...changeTarget(change), title: change.title ?? change.sha }, effect: e, pageUrl },
      key,
    );
  }

  async alreadyDone(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<boolean> {
    const e = entry.effect;
    if (e.type === 'dispatch') return (await this.dispatcher(ctx)?.wasDispatched?.(e.run.key, ctx)) ?? false;
    if (e.type === 'report') {
      const change = Object.hasOwn(ctx.file.state.changes, e.change) ? ctx.file.state.changes[e.change] : undefined;
      return (
        (await this.reporter(ctx, e.change)?.wasReported?.(entry.key, change ? changeTarget(change) : null)) ?? false
      );
    }
    return false;
  }

  async resume(run: Run, ctx: DispatchContext): Promise<void> {
    await this.dispatcher(ctx)?.resume?.(run, ctx);
  }
}
