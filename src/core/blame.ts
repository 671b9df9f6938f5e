// Blame: decides culprits from the main line's results and breaks the culprit's stream.
// Changes: streams' broken state, the main line, stats. Emits: culprit and blocked verdicts, cancels
// of runs that contained the culprit, notices.
import type { StepContext } from './context.ts';
import { notice } from './emit.ts';
import { feed } from './feed.ts';
import { revertsCulprit } from './blocked-at-once.ts';
import { fix } from './fix-line.ts';
import { passEarly } from './early-pass.ts';
import { MAIN, liveRuns, searchView, viewLine } from './lines.ts';
import { supersede, supersedeLine } from './runs.ts';
import { strategyOf } from './schedule.ts';
import { flakeLikely, signatureSearches } from './signatures.ts';
import { noteBrokenTests, recordCulpritTests } from './test-book.ts';
import type { Evidence, StreamState } from './types.ts';
import { verdict } from './verdicts.ts';

/** Blames and fixes until nothing more can be decided from the results at hand. */
export function settle(ctx: StepContext): void {
  for (let guard = 0; guard < 10_000; guard++) {
    const main = viewLine(ctx.state, MAIN);
    const searches = main.bounds.some((n) => n > 0)
      ? signatureSearches(ctx.state, main, 0, ctx.state.settings.confirm)
      : null;
    if (searches) {
      if (blameByTests(ctx, main.changes, searches)) continue;
      passEarly(ctx, main, searches);
    } else if ((main.bounds[0] ?? 0) > 0) {
      const found = strategyOf(ctx).decide(searchView(ctx.state, main, 0, ctx.state.settings.confirm));
      if (found) {
        blame(ctx, main.changes[0]!, found.confidence);
        continue;
      }
    }
    const fixed = Object.values(ctx.state.streams).find(
      (s) => s.broken && (viewLine(ctx.state, s.id).bounds[0] ?? 0) > 0,
    );
    if (fixed) {
      fix(ctx, fixed);
      feed(ctx);
      continue;
    }
    return;
  }
}

/** Verdicts name at most this many tests; the count says how many more. */
const TESTS_NAMED = 5;

/**
 * Blames the changes the searches per failure signature have decided on, all in one go, so that a
 * second culprit behind the first is named instead of blocked by it. Waits while a search that is
 * likely real still looks above a decided change: blaming that change would block its suspects.
 * Returns whether anything was blamed.
 */
function blameByTests(ctx: StepContext, line: string[], searches: ReturnType<typeof signatureSearches> & {}): boolean {
  const strategy = strategyOf(ctx);
  const decided = new Map<number, { confidence: number; tests: string[] }>();
  const open: number[] = [];
  for (const s of searches) {
    const found = strategy.decide(s.view);
    if (!found) {
      if (!flakeLikely(s)) open.push(s.top);
      continue;
    }
    const at = s.offset + found.position;
    const seen = decided.get(at);
    decided.set(at, {
      confidence: Math.min(found.confidence, seen?.confidence ?? 1),
      tests: [...(seen?.tests ?? []), ...s.tests].sort(),
    });
  }
  if (decided.size === 0) return false;
  const lowest = Math.min(...decided.keys());
  if (open.some((top) => top > lowest)) return false;
  const culprits = [...decided.keys()].sort((a, b) => a - b).map((at) => ({ id: line[at]!, ...decided.get(at)! }));
  const spare = new Set(culprits.map((c) => c.id));
  for (const c of culprits) blame(ctx, c.id, c.confidence, { tests: c.tests, spare });
  return true;
}

/**
 * Gives `culprit` to a change of the main line (the first one, unless `byTests` says which tests
 * it broke). Its stream becomes broken: its later changes in the line are blocked (but those in
 * `byTests.spare`, themselves culprits), and so are changes of other streams that depend on it.
 * The main line's results over it are superseded, since those prefixes contained the culprit.
 */
export function blame(
  ctx: StepContext,
  id: string,
  confidence: number,
  byTests?: { tests: string[]; spare: Set<string> },
): void {
  const change = ctx.state.changes[id]!;
  const stream = ctx.state.streams[change.stream]!;
  const live = liveRuns(ctx.state, MAIN);
  const evidence: Evidence[] = [];
  const good = stream.goodRun ? ctx.state.runs[stream.goodRun] : undefined;
  if (good) evidence.push({ key: good.key, end: good.end, result: 'passed', url: good.url ?? null });
  for (const r of live)
    if (r.state === 'failed') evidence.push({ key: r.key, end: r.end, result: 'failed', url: r.url ?? null });
  const decisive = live.find((r) => r.state === 'failed' && r.end === id);
  // with tests, a run without the culprit still speaks for the other tests
  if (!byTests) supersedeLine(ctx, MAIN, `${id} is the culprit`);
  else for (const r of live) if (r.changes.includes(id)) supersede(ctx, r, `${id} is the culprit`);
  ctx.state.stats.culprits += 1;
  const spare = (ids: string[]) => (byTests ? ids.filter((b) => !byTests.spare.has(b)) : ids);
  const blocked = spare(breakStream(ctx, stream, id, id));
  if (byTests) noteBrokenTests(stream, byTests.tests);
  // dependents already in a line go now; those still pending go when their stream reaches them (feed)
  const dependents = Object.values(ctx.state.changes)
    .filter(
      (c) =>
        c.state !== 'done' &&
        c.stream !== stream.id &&
        (c.dependsOn ?? []).includes(id) &&
        (ctx.state.active.includes(c.id) || c.state === 'waiting'),
    )
    .sort((a, b) => a.seq - b.seq);
  for (const d of dependents) {
    if (d.state === 'done') continue;
    blocked.push(...spare(breakStream(ctx, ctx.state.streams[d.stream]!, d.id, id)));
  }
  if (byTests) recordCulpritTests(ctx.state, byTests.tests.length);
  const tests = byTests
    ? {
        tests: byTests.tests.slice(0, TESTS_NAMED),
        ...(byTests.tests.length > TESTS_NAMED ? { testsBroken: byTests.tests.length } : {}),
      }
    : {};
  verdict(ctx, id, 'culprit', { culprit: id, confidence, run: decisive?.key, evidence, blocked, ...tests });
  for (const b of blocked) verdict(ctx, b, 'blocked', { culprit: id, reason: `contains ${id}` });
  notice(
    ctx,
    'warn',
    'stream-broken',
    `${stream.id} is broken by ${id}; its later changes are blocked until a passing tip shows the fix`,
    id,
  );
}

/**
 * Marks `stream` broken from change `from` on (blamed on `culprit`) and returns the changes that
 * now have to be blocked: `from` itself unless it is the culprit, and the stream's later changes in
 * the main line.
 */
export function breakStream(ctx: StepContext, stream: StreamState, from: string, culprit: string): string[] {
  const { at } = ctx;
  const start = ctx.state.changes[from]!;
  if (!stream.broken) stream.broken = { culprit, since: at, line: [] };
  let held = ctx.state.active.filter((cid) => {
    const c = ctx.state.changes[cid]!;
    return c.stream === stream.id && c.seq >= start.seq;
  });
  ctx.state.active = ctx.state.active.filter((cid) => !held.includes(cid));
  // a revert of the culprit merged before the verdict, and what follows it, may pass: they go to
  // the fix line to be tested instead of being blocked
  const revertAt = ctx.state.settings.revertAware
    ? held.findIndex((cid) => revertsCulprit(ctx, stream, ctx.state.changes[cid]!))
    : -1;
  if (revertAt >= 0) {
    stream.broken.line.push(...held.slice(revertAt));
    held = held.slice(0, revertAt);
  }
  if (start.state === 'waiting') {
    stream.pending = stream.pending.filter((cid) => cid !== from);
    held.unshift(from);
  }
  return held.filter((cid) => cid !== culprit);
}
