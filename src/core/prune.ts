// Pruning: keeps the state bounded by forgetting the oldest finished changes and runs nothing
// refers to. Changes: changes, forgotten ids, runs. Emits nothing.
import type { StepContext } from './context.ts';
import { isInFlight } from './lines.ts';

/** Finished changes kept in the state (a culprit's and its blocked changes are always kept). */
const DONE_CHANGES_KEPT = 50;
/** Finished runs kept in the state. */
const FINISHED_RUNS_KEPT = 50;
/** Ids of forgotten changes still recognised, so that a late event does not add them again. */
const FORGOTTEN_IDS_KEPT = 2000;

/** Keeps the state bounded: forgets the oldest finished changes and runs nothing refers to. */
export function prune(ctx: StepContext): void {
  const openCulprits = new Set(
    Object.values(ctx.state.streams).flatMap((st) => (st.broken ? [st.broken.culprit] : [])),
  );
  const done = Object.values(ctx.state.changes).filter((c) => {
    if (c.state !== 'done') return false;
    if (openCulprits.has(c.id)) return false; // kept so that `not-culprit` can reopen it and its blocks
    return !(c.verdict === 'blocked' && openCulprits.has(c.culprit ?? ''));
  });
  if (done.length > DONE_CHANGES_KEPT) {
    done.sort((a, b) => a.seq - b.seq);
    for (const c of done.slice(0, done.length - DONE_CHANGES_KEPT)) {
      delete ctx.state.changes[c.id];
      ctx.state.forgotten.push(c.id, ...(c.landedWith ?? []).map((m) => m.id));
    }
    if (ctx.state.forgotten.length > FORGOTTEN_IDS_KEPT)
      ctx.state.forgotten.splice(0, ctx.state.forgotten.length - FORGOTTEN_IDS_KEPT);
  }
  const finished = Object.values(ctx.state.runs).filter((r) => !isInFlight(r));
  if (finished.length > FINISHED_RUNS_KEPT) {
    const needed = new Set<string>();
    for (const s of Object.values(ctx.state.streams)) if (s.goodRun) needed.add(s.goodRun);
    const removable = finished
      .filter(
        (r) =>
          !needed.has(r.key) &&
          (r.superseded || r.flake || r.changes.every((id) => ctx.state.changes[id]?.state !== 'queued')),
      )
      .sort((a, b) => a.createdAt - b.createdAt);
    for (const r of removable.slice(0, finished.length - FINISHED_RUNS_KEPT)) delete ctx.state.runs[r.key];
  }
}
