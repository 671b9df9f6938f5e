// The JSON views of queues that the API and the dashboard show.
import { flakyTests } from '../core/test-book.ts';
import { isInFlight } from '../core/lines.ts';
import type { QueueState, Run } from '../core/index.ts';
import type { QueueView } from '../store/types.ts';

export type ChangeView = {
  id: string;
  stream: string;
  sha: string;
  title: string;
  url?: string | null;
  state: string;
  culprit?: string;
};

/** Runs in flight in a queue. */
export function runsInFlight(state: QueueState): Run[] {
  return Object.values(state.runs).filter(isInFlight);
}

/** Changes without a final verdict. */
export function queueDepth(state: QueueState): number {
  return Object.values(state.changes).filter((c) => c.state !== 'done').length;
}

export function queueSummary(file: QueueView) {
  const s = file.state;
  const inFlight = runsInFlight(s);
  return {
    name: s.name,
    paused: s.paused,
    depth: queueDepth(s),
    runs_in_flight: inFlight.length,
    broken: Object.values(s.streams).flatMap((st) =>
      st.broken ? [{ stream: st.id, culprit: st.broken.culprit, since: st.broken.since }] : [],
    ),
    ci: file.ci?.provider ?? null,
  };
}

export function queueDetail(file: QueueView) {
  const s = file.state;
  const testing = new Set(runsInFlight(s).flatMap((r) => r.changes));
  const changes: ChangeView[] = Object.values(s.changes)
    .sort((a, b) => a.seq - b.seq)
    .map((c) => ({
      id: c.id,
      stream: c.stream,
      sha: c.sha,
      title: c.title ?? '',
      url: c.url ?? null,
      state: c.state === 'done' ? (c.verdict ?? 'done') : testing.has(c.id) ? 'testing' : c.state,
      ...(c.culprit ? { culprit: c.culprit } : {}),
    }));
  const runs = Object.values(s.runs)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => ({
      key: r.key,
      kind: r.kind,
      line: r.line,
      end: r.end,
      changes: r.changes,
      refs: r.refs,
      state: r.state,
      attempt: r.attempt,
      url: r.url ?? null,
      createdAt: r.createdAt,
      ...(r.startedAt !== undefined ? { startedAt: r.startedAt } : {}),
      ...(r.finishedAt !== undefined ? { finishedAt: r.finishedAt } : {}),
      ...(r.superseded ? { superseded: true } : {}),
      ...(r.flake ? { flake: true } : {}),
      ...(r.tests ? { tests: r.tests } : {}),
      ...(r.quarantined ? { quarantined: r.quarantined } : {}),
      ...(r.try ? { try: { change: r.try.change, sha: r.try.sha, by: r.try.by, url: r.try.url ?? null } } : {}),
    }));
  const verdicts = s.verdicts.map((v) => ({
    change: v.change,
    verdict: v.verdict,
    ...(v.culprit ? { culprit: v.culprit } : {}),
    ...(v.confidence !== undefined ? { confidence: v.confidence } : {}),
    ...(v.run ? { run: v.run } : {}),
    at: v.at,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.tests ? { tests: v.tests } : {}),
    ...(v.testsBroken ? { testsBroken: v.testsBroken } : {}),
    ...(v.retracted ? { retracted: true } : {}),
    ...(v.provisional ? { provisional: v.provisional } : {}),
  }));
  return {
    ...queueSummary(file),
    settings: s.settings,
    stats: s.stats,
    changes,
    runs,
    verdicts,
    /** Tests that flaked or are quarantined (culprits per failing test), with their estimated flake rate. */
    flakyTests: flakyTests(s),
    /** `/ost try` requests waiting for an idle runner, oldest first. */
    triesWaiting: (s.tries ?? []).map((t) => ({ change: t.change, sha: t.sha, by: t.by, requestedAt: t.requestedAt })),
    notices: file.notices,
  };
}
