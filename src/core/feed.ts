// Feeding: moves pending changes into a line once their Depends-On dependencies allow it.
// Changes: streams' pending lists, the main line (`active`), fix lines, change states. Emits: blocked
// verdicts for dependents of a culprit, dependency notices.
import type { StepContext } from './context.ts';
import { firstUnmetDependency, isDependencyLoop } from './dependencies.ts';
import { notice } from './emit.ts';
import { blockAtOnce, noteForwardFixCandidate } from './blocked-at-once.ts';
import { own } from './own.ts';
import { verdict } from './verdicts.ts';

/**
 * Moves the head of each stream's pending list into a line (the main line, or the fix line of a
 * broken stream) once its dependencies are in a line or done. A dependency loop, or a dependency
 * still missing after `dependencyTimeoutMs`, lets it go anyway, with a notice.
 */
export function feed(ctx: StepContext): void {
  const { at } = ctx;
  let moved = true;
  while (moved) {
    moved = false;
    for (const stream of Object.values(ctx.state.streams)) {
      while (stream.pending.length > 0) {
        const head = ctx.state.changes[stream.pending[0]!]!;
        const unmet = firstUnmetDependency(ctx.state, head);
        // Waiting ends when the dependency is ahead, when waiting would never end (a loop), or at
        // the deadline. The change is merged: rejecting it would not take its code out of the
        // branch, and the next change tested would take the blame for it. So it is tested in
        // history order like any other, with a notice saying what it is tested without.
        const loop = unmet !== null && isDependencyLoop(ctx.state, head.id);
        const late = unmet !== null && !loop && at - head.enqueuedAt >= ctx.state.settings.dependencyTimeoutMs;
        if (unmet !== null && !loop && !late) {
          head.state = 'waiting';
          break;
        }
        if (loop)
          notice(
            ctx,
            'warn',
            'dependency-loop',
            `${head.id} and ${unmet} depend on each other (or wait on each other's streams); ${head.id} is tested in history order, without ${unmet}`,
            head.id,
          );
        if (late)
          notice(
            ctx,
            'warn',
            'dependency-timeout',
            `${unmet}, which ${head.id} depends on, did not arrive in time; ${head.id} is tested without it`,
            head.id,
          );
        stream.pending.shift();
        head.state = 'queued';
        // a change that depends on a culprit of another stream goes with it, and its stream is broken
        // from here on (in the culprit's own stream it is simply one of the changes after the culprit)
        const culpritDep = (head.dependsOn ?? []).find((d) => {
          const dep = own(ctx.state.changes, d);
          return dep?.verdict === 'culprit' && dep.stream !== head.stream;
        });
        if (culpritDep) {
          stream.broken ??= { culprit: culpritDep, since: at, line: [] };
          verdict(ctx, head.id, 'blocked', { culprit: culpritDep, reason: `depends on ${culpritDep}` });
        } else if (!stream.broken) ctx.state.active.push(head.id);
        else if (blockAtOnce(ctx, stream, head)) {
          noteForwardFixCandidate(ctx, stream.broken, head);
          verdict(ctx, head.id, 'blocked', {
            culprit: stream.broken.culprit,
            reason: `contains ${stream.broken.culprit} and does not revert it`,
          });
        } else stream.broken.line.push(head.id);
        moved = true;
      }
    }
  }
}
