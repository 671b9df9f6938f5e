// The values every CI provider receives for a run (README, "CI contract").
import type { DispatchSpec } from '../core/index.ts';

const CHANGES_LIMIT = 60_000;

/** `ost_changes`: the run's change ids as a JSON array, cut to whole ids within 60,000 characters. */
export function changesJson(changes: readonly string[]): string {
  const kept: string[] = [];
  let length = 2;
  for (const id of changes) {
    const add = JSON.stringify(id).length + (kept.length ? 1 : 0);
    if (length + add > CHANGES_LIMIT) break;
    kept.push(id);
    length += add;
  }
  return JSON.stringify(kept);
}

export interface ContractValues {
  ost_key: string;
  ost_refs: string;
  ost_changes: string;
}

export function contractValues(run: DispatchSpec): ContractValues {
  return { ost_key: run.key, ost_refs: JSON.stringify(run.refs), ost_changes: changesJson(run.changes) };
}
