// Runs: creating a run over a prefix and superseding runs whose result no longer matters.
// Changes: runs, seq. Emits: dispatches and cancels.
import type { StepContext } from './context.ts';
import { type LineView, isInFlight, liveRuns, viewLine } from './lines.ts';
import type { Run, RunKind, RunState, RunStatus } from './types.ts';

export function createRunAt(ctx: StepContext, view: LineView, pos: number, kind: RunKind): Run {
  const changes = view.changes.slice(0, pos + 1);
  return createRun(ctx, {
    line: view.line,
    end: changes.at(-1)!,
    kind,
    attempt: 1,
    changes,
    refs: refsFor(ctx, changes),
  });
}

/** project -> sha for a prefix: every stream at its good sha, moved up by the prefix's changes. */
export function refsFor(ctx: StepContext, changes: string[]): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const s of Object.values(ctx.state.streams)) if (s.good) refs[s.project] = s.good;
  for (const id of changes) {
    const c = ctx.state.changes[id]!;
    refs[c.project] = c.sha;
  }
  return refs;
}

/** What a new run tests: its line, the prefix (its last change, the changes, the refs), its kind and attempt. */
export type RunSpec = Pick<Run, 'line' | 'end' | 'kind' | 'attempt' | 'changes' | 'refs' | 'try'>;

/** A run key: the queue's key prefix, the queue's sequence number and, when the step has one, its salt. */
function runKey(prefix: string, seq: number, salt: string | undefined): string {
  return `${prefix}.${seq}${salt ? `-${salt}` : ''}`;
}

/** The key prefix of the queue that made a run key (runKey), or null for a key no queue made. */
export function runKeyPrefix(key: string): string | null {
  return /^(.+)\.\d+(?:-[0-9a-f]+)?$/.exec(key)?.[1] ?? null;
}

/** A new run of `spec`, dispatched: keyed, stamped with the step's time, and its deadline set. */
export function createRun(ctx: StepContext, spec: RunSpec): Run {
  const { at } = ctx;
  const { line, end, kind, attempt, changes, refs, try: tried } = spec;
  const key = runKey(ctx.state.keyPrefix, ++ctx.state.seq, ctx.salt);
  const run: Run = {
    key,
    line,
    kind,
    end,
    changes: [...changes],
    refs: { ...refs },
    state: 'dispatched',
    attempt,
    createdAt: at,
    deadline: at + ctx.state.settings.timeoutMs,
    ...(tried ? { try: tried } : {}),
  };
  ctx.state.runs[key] = run;
  // a try's CI is told the open change it tries; the run itself covers no change of the queue
  const told = tried ? [tried.change] : run.changes;
  ctx.effects.push({
    type: 'dispatch',
    run: { key, refs: run.refs, changes: told, attempt, kind, line, end, ...(tried ? { try: tried } : {}) },
  });
  return run;
}

export function supersede(ctx: StepContext, run: Run, why: string): void {
  const { at } = ctx;
  run.superseded = true;
  if (isInFlight(run)) {
    run.state = 'cancelled';
    run.finishedAt = at;
    ctx.effects.push({ type: 'cancel', key: run.key, reason: why });
  }
}

export function supersedeLine(ctx: StepContext, line: string, why: string): void {
  for (const r of liveRuns(ctx.state, line))
    if (isInFlight(r) || r.state === 'failed' || r.state === 'passed') supersede(ctx, r, why);
}

/**
 * Cancels runs of `line` in flight whose prefix ends after `end`: their result is no longer
 * needed. With `keepBatches`, runs over new changes stay: if one passes, the failure was a flake.
 */
export function supersedeAbove(ctx: StepContext, line: string, end: string, why: string, keepBatches = false): void {
  const changes = viewLine(ctx.state, line).changes;
  const pos = changes.indexOf(end);
  for (const r of liveRuns(ctx.state, line)) {
    if (keepBatches && r.kind === 'batch') continue;
    if (isInFlight(r) && changes.indexOf(r.end) > pos) supersede(ctx, r, why);
  }
}

/** Whether a run is outside the queue's lines (a try, a quarantine check): it never passes or blames a line's change. */
export function outsideLines(run: Pick<Run, 'kind'>): boolean {
  return run.kind === 'try' || run.kind === 'quarantine-check';
}

/** The state a run outside the lines (a try, a quarantine check) ends in, by what its runner reported. */
const ENDED_BY_STATUS: Readonly<Record<RunStatus | 'timed-out', RunState>> = {
  success: 'passed',
  failure: 'failed',
  error: 'error',
  cancelled: 'cancelled',
  lost: 'cancelled',
  'timed-out': 'timed-out',
};

/** Ends a run outside the lines (a try, a quarantine check) as its runner reported: its state and end time. */
export function endOutsideLines(ctx: StepContext, run: Run, status: RunStatus | 'timed-out'): void {
  run.finishedAt = ctx.at;
  run.state = ENDED_BY_STATUS[status];
}
