// Commands: pause, resume, enqueue, dequeue, retry, not-culprit and priority, whose permission the host has
// already checked. Changes: the pause flag, lines, verdicts (reopened), runs. Emits: a reply for each
// command, and the effects of what it changes.
import type { StepContext } from './context.ts';
import { notice } from './emit.ts';
import { MAIN, liveRuns, viewLine } from './lines.ts';
import { own } from './own.ts';
import { markFlake } from './results.ts';
import { createRun, outsideLines, supersede, supersedeLine } from './runs.ts';
import { isKnownId, merge } from './streams.ts';
import type { CoreEvent } from './types.ts';
import { retract, verdict } from './verdicts.ts';

/** Applies a command whose permission the caller has already checked, and replies. */
export function command(ctx: StepContext, event: Extract<CoreEvent, { type: 'command' }>): void {
  const { verb, change: id, at, user } = event;
  const reply = (ok: boolean, message: string): void => {
    ctx.effects.push({ type: 'reply', to: event.replyTo ?? null, change: id, ok, message });
  };
  const change = own(ctx.state.changes, id);
  switch (verb) {
    case 'pause':
      if (ctx.state.paused)
        return reply(false, `queue ${ctx.state.name} is already paused: ${ctx.state.paused.reason}`);
      ctx.state.paused = { reason: `paused by ${user}`, by: user, at };
      notice(ctx, 'warn', 'queue-paused', `queue ${ctx.state.name} paused by ${user}`);
      return reply(true, `queue ${ctx.state.name} paused; runs in flight finish, nothing new is dispatched`);
    case 'resume':
      if (!ctx.state.paused) return reply(false, `queue ${ctx.state.name} is not paused`);
      ctx.state.paused = null;
      notice(ctx, 'info', 'queue-resumed', `queue ${ctx.state.name} resumed by ${user}`);
      return reply(true, `queue ${ctx.state.name} resumed`);
    case 'enqueue': {
      if (change || isKnownId(ctx, id))
        return reply(
          false,
          `${id} is already in queue ${ctx.state.name} (${change?.verdict ?? change?.state ?? 'done'})`,
        );
      if (!event.input) return reply(false, `${id} is not known to the host as a merged change`);
      merge(ctx, { stream: event.input.stream, changes: [event.input.change] });
      return reply(true, `${id} added to queue ${ctx.state.name}`);
    }
    case 'dequeue': {
      if (!change) return reply(false, `${id} is not in queue ${ctx.state.name}`);
      if (change.state === 'done') return reply(false, `${id} already has its verdict: ${change.verdict}`);
      const line = ctx.state.streams[change.stream]?.broken?.line.includes(id) ? change.stream : MAIN;
      for (const r of liveRuns(ctx.state, line)) if (r.end === id) supersede(ctx, r, `${id} dequeued`);
      verdict(ctx, id, 'skipped', { reason: `dequeued by ${user}` });
      return reply(true, `${id} removed from queue ${ctx.state.name} untested`);
    }
    case 'not-culprit':
    case 'retry':
      return reopenOrRetry(ctx, event, reply);
    case 'priority': {
      if (!change) return reply(false, `${id} is not in queue ${ctx.state.name}`);
      if (change.state === 'done') return reply(false, `${id} already has its verdict: ${change.verdict}`);
      if (change.priority) return reply(false, `${id} already jumps the line`);
      change.priority = true;
      notice(ctx, 'info', 'priority', `${id} jumps the line (by ${user}): the next run tests up to it`, id);
      return reply(true, `${id} jumps the line: the next free runner tests the queue up to it`);
    }
    default: {
      // a verb without a case here does not type-check: every command the core takes is handled
      const unhandled: never = verb;
      return reply(false, `${String(unhandled)} is not a command the queue knows`);
    }
  }
}

export function reopenOrRetry(
  ctx: StepContext,
  event: Extract<CoreEvent, { type: 'command' }>,
  reply: (ok: boolean, message: string) => void,
): void {
  const { verb, change: id, user } = event;
  const change = own(ctx.state.changes, id);
  if (!change) return reply(false, `${id} is not in queue ${ctx.state.name}`);
  if (verb === 'retry' && change.state !== 'done') {
    const last = Object.values(ctx.state.runs)
      .filter(
        (r) =>
          r.changes.includes(id) && ['failed', 'error', 'timed-out', 'cancelled'].includes(r.state) && !r.superseded,
      )
      .sort((a, b) => b.createdAt - a.createdAt)[0];
    const wasPaused = ctx.state.paused;
    ctx.state.paused = null;
    if (last && viewLine(ctx.state, last.line).changes.includes(last.end)) {
      const run = createRun(ctx, { ...last, kind: 'retry', attempt: 1 });
      return reply(true, `re-running ${last.key} as ${run.key}${wasPaused ? '; queue resumed' : ''}`);
    }
    return reply(true, `${id} is ${change.state}; nothing failed to re-run${wasPaused ? '; queue resumed' : ''}`);
  }
  const culprit = change.verdict === 'culprit' ? id : change.verdict === 'blocked' ? change.culprit : undefined;
  if (verb === 'not-culprit' && change.verdict !== 'culprit')
    return reply(false, `${id} is not a culprit (${change.verdict ?? change.state})`);
  if (!culprit) return reply(false, `${id} has verdict ${change.verdict}; there is nothing to re-test`);
  const stream = ctx.state.streams[ctx.state.changes[culprit]!.stream]!;
  if (stream.broken?.culprit !== culprit) {
    if (verb === 'not-culprit') recordDisputed(ctx, culprit);
    return reply(
      false,
      `${stream.id} has been fixed since ${culprit} was blamed; the verdict stays${verb === 'not-culprit' ? ', and the dispute is recorded' : ''}`,
    );
  }
  const reopened = reopen(ctx, culprit, verb === 'not-culprit');
  return reply(
    true,
    `${culprit} reopened by ${user}: ${reopened} change(s) go back into queue ${ctx.state.name} to be tested again`,
  );
}

/** Withdraws a culprit verdict and the blocks it caused; the changes go back to their streams' pending lists. */
export function reopen(ctx: StepContext, culprit: string, flake: boolean): number {
  const affected = Object.values(ctx.state.changes)
    .filter((c) => c.state === 'done' && (c.id === culprit || (c.verdict === 'blocked' && c.culprit === culprit)))
    .sort((a, b) => a.seq - b.seq);
  if (flake) recordDisputed(ctx, culprit);
  ctx.state.stats.culprits = Math.max(0, ctx.state.stats.culprits - 1);
  for (const stream of Object.values(ctx.state.streams)) {
    if (stream.broken?.culprit !== culprit) continue;
    supersedeLine(ctx, stream.id, `${culprit} reopened`);
    const ours = affected.filter((c) => c.stream === stream.id).map((c) => c.id);
    stream.pending = [...ours, ...stream.broken.line, ...stream.pending].sort(
      (a, b) => ctx.state.changes[a]!.seq - ctx.state.changes[b]!.seq,
    );
    stream.broken = null;
  }
  affected.forEach((c) => retract(ctx, c));
  notice(
    ctx,
    'info',
    'verdict-reopened',
    `${culprit} reopened; ${affected.length} change(s) will be tested again`,
    culprit,
  );
  return affected.length;
}

export function recordDisputed(ctx: StepContext, culprit: string): void {
  for (const r of Object.values(ctx.state.runs))
    if (r.state === 'failed' && r.end === culprit && !outsideLines(r)) markFlake(ctx, r);
}
