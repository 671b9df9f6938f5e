// Depends-On rules: when a change may enter a line, and when waiting would never end (a loop).
import { own } from './own.ts';
import type { ChangeRecord, QueueState } from './types.ts';

/** True when `id` is in a line already or has its verdict: a change depending on it may follow it. */
function isAhead(state: QueueState, id: string): boolean {
  const c = own(state.changes, id);
  if (!c) return state.forgotten.includes(id);
  if (c.state === 'done') return true;
  const stream = state.streams[c.stream];
  return state.active.includes(id) || (stream?.broken?.line.includes(id) ?? false);
}

/**
 * True when `dep` comes after `change` in the same stream's history. Holding `change` back for it
 * would deadlock its stream (nothing passes the stream's head), and would not help: every prefix
 * of the branch that holds `dep` holds `change` too, as the history was merged.
 */
function laterInSameStream(state: QueueState, change: ChangeRecord, dep: string): boolean {
  const d = own(state.changes, dep);
  return !!d && d.stream === change.stream && d.seq > change.seq;
}

/** The first dependency of `change` that is not ahead of it yet, or null when it may go. */
export function firstUnmetDependency(state: QueueState, change: ChangeRecord): string | null {
  for (const dep of change.dependsOn ?? []) {
    if (dep === change.id) return dep;
    if (!isAhead(state, dep) && !laterInSameStream(state, change, dep)) return dep;
  }
  return null;
}

/** What holds `id` back: the head of its stream's pending list, or its own first unmet dependency. */
function heldBy(state: QueueState, id: string): string | null {
  const c = own(state.changes, id);
  if (!c || c.state === 'done') return null;
  const pending = state.streams[c.stream]?.pending ?? [];
  const at = pending.indexOf(id);
  if (at < 0) return null;
  if (at > 0) return pending[0]!;
  return firstUnmetDependency(state, c);
}

/** True when following what holds `id` back leads back to `id`: it would wait forever. */
export function isDependencyLoop(state: QueueState, id: string): boolean {
  const seen = new Set<string>();
  let cur = heldBy(state, id);
  while (cur !== null && !seen.has(cur)) {
    if (cur === id) return true;
    seen.add(cur);
    cur = heldBy(state, cur);
  }
  return false;
}
