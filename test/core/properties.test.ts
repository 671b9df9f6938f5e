// Property tests of the core over random streams, culprits, flakes and runner counts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../src/sim/random.ts';
import { step } from '../../src/core/index.ts';
import { bisect } from '../../src/core/strategies/bisect.ts';
import { posterior } from '../../src/core/strategies/posterior.ts';
import { scaledRuns } from '../helpers/fast-check-seed.ts';
import { change, Harness, HOUR, streamRef } from '../helpers/harness.ts';

const PROJECTS = ['app', 'lib'];

interface World {
  n: number;
  culprits: number[];
  runners: number;
  strategy: 'bisect' | 'bayes';
  flakeRate: number;
  seed: number;
  chunks: number[];
  /** Fixes are reverts of their culprit (the `broken.await_revert` path) rather than plain changes. */
  reverts: boolean;
  /** Runs take uneven times: each run in flight finishes in a round with probability 0.6, in random order. */
  uneven: boolean;
  /** One stream, or two projects sharing the queue; chunks alternate between them. */
  projects: 1 | 2;
  /** Queue settings beyond the defaults: batch size and batches in flight, speculation, waiting for reverts, search width, confirmations. */
  tuning: {
    batchMaxSize: number;
    batchMaxInFlight: number;
    speculate: boolean;
    awaitRevert: boolean;
    searchWidth: number;
    confirm: number;
    retries: number;
  };
  /** Share of runs that end in an infra error or a cancellation instead of a result; a paused queue is resumed. */
  infraRate: number;
  /** Depends-On footers: [i, j] makes change i depend on change j, earlier or later, maybe in a loop. */
  deps: [number, number][];
  /** Rounds at which someone disputes the newest culprit verdict (`/ost not-culprit`) or re-tests a blocked change (`/ost retry`). */
  disputes: { round: number; verb: 'not-culprit' | 'retry' }[];
  /** Changes marked priority (`/ost priority`) as they merge, by index, and whether fixes are too. */
  priority: number[];
  priorityFixes: boolean;
}

const world = (flaky: boolean) =>
  fc
    .record({
      n: fc.integer({ min: 1, max: 24 }),
      culprits: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { maxLength: 4 }),
      runners: fc.integer({ min: 1, max: 4 }),
      strategy: fc.constantFrom<'bisect' | 'bayes'>('bisect', 'bayes'),
      flakeRate: flaky ? fc.constantFrom(0.05, 0.2) : fc.constant(0),
      seed: fc.integer(),
      chunks: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
      reverts: fc.boolean(),
      uneven: fc.boolean(),
      projects: fc.constantFrom<1 | 2>(1, 2),
      tuning: fc.record({
        batchMaxSize: fc.constantFrom(1, 3, 20),
        batchMaxInFlight: fc.constantFrom(0, 1, 2),
        speculate: fc.boolean(),
        awaitRevert: fc.boolean(),
        searchWidth: fc.constantFrom(0, 1),
        confirm: fc.constantFrom(0, 1, 2),
        retries: fc.constantFrom(0, 2),
      }),
      infraRate: fc.constantFrom(0, 0, 0.1),
      deps: fc.array(fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 23 })), { maxLength: 3 }),
      disputes: fc.array(
        fc.record({
          round: fc.integer({ min: 0, max: 40 }),
          verb: fc.constantFrom<'not-culprit' | 'retry'>('not-culprit', 'retry'),
        }),
        { maxLength: 2 },
      ),
      priority: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { maxLength: 3 }),
      priorityFixes: fc.boolean(),
    })
    // Known limit: a stream holds one culprit. A dependent of a culprit in another stream breaks its
    // stream while older changes of it are still tested; if one of those is then blamed too (after a
    // dispute reopens it), a revert of it is blocked instead of tested. Disputes are left out there.
    .map((w) => (w.deps.length > 0 ? { ...w, disputes: [] } : w));

/**
 * Merges the world's changes in chunks, one chunk per round of CI, merges a fix for each true
 * culprit once it is blamed (and, at the end, for every culprit never blamed), and runs until
 * nothing is left in flight.
 */
function play(w: World, onStep?: (h: Harness) => void) {
  const h = new Harness({
    ...w.tuning,
    maxParallel: w.runners,
    strategy: w.strategy,
    confidence: w.flakeRate > 0 ? 0.999 : 0,
  });
  const ids = Array.from({ length: w.n }, (_, i) => `c${i + 1}`);
  const culprits: Record<string, string | null> = {};
  for (const i of w.culprits) if (i < w.n) culprits[`c${i + 1}`] = null;
  const rng = seeded(w.seed);
  const ci = (run: Parameters<ReturnType<Harness['brokenBy']>>[0]) =>
    h.brokenBy(culprits)(run) || rng.next() < w.flakeRate;
  const fixed = new Set<string>();
  const projectOf = new Map<string, string>();
  const mergeFixes = (which: string[]) => {
    const fresh = which.filter((c) => !fixed.has(c));
    fresh.forEach((c) => {
      fixed.add(c);
      culprits[c] = `fix-${c}`;
    });
    for (const project of new Set(fresh.map((c) => projectOf.get(c)!))) {
      const mine = fresh.filter((c) => projectOf.get(c) === project);
      mine.forEach((c) => projectOf.set(`fix-${c}`, project));
      h.merge(
        mine.map((c) => `fix-${c}`),
        streamRef(project),
        Object.fromEntries(
          mine.map((c) => [
            `fix-${c}`,
            { ...(w.reverts ? { reverts: [c] } : {}), ...(w.priorityFixes ? { priority: true } : {}) },
          ]),
        ),
      );
    }
  };
  // one round of CI: every run in flight finishes, or with uneven times a random part of them in random order
  const ciRound = () => {
    if (!w.uneven && w.infraRate === 0) return void h.round(ci);
    const runs = h.inFlight();
    const done = w.uneven ? runs.filter(() => rng.next() < 0.6) : [...runs];
    if (done.length === 0 && runs.length > 0) done.push(runs[Math.floor(rng.next() * runs.length)]!);
    for (let i = w.uneven ? done.length - 1 : 0; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [done[i], done[j]] = [done[j]!, done[i]!];
    }
    h.now += HOUR;
    for (const r of done) if (h.inFlight().some((f) => f.key === r.key)) h.finish(r.key, outcome(r));
  };
  const outcome = (r: Parameters<typeof ci>[0]) =>
    w.infraRate > 0 && rng.next() < w.infraRate
      ? rng.next() < 0.5
        ? 'error'
        : 'cancelled'
      : ci(r)
        ? 'failure'
        : 'success';
  let next = 0;
  for (let round = 0; round < 400; round++) {
    const chunk = w.chunks[round % w.chunks.length]!;
    if (next < ids.length) {
      const project = PROJECTS[round % w.projects]!;
      const batch = ids.slice(next, next + chunk);
      batch.forEach((id) => projectOf.set(id, project));
      const footers: Record<string, { dependsOn?: string[]; priority?: boolean }> = {};
      for (const [i, j] of w.deps)
        if (i !== j && i < w.n && j < w.n) ((footers[`c${i + 1}`] ??= {}).dependsOn ??= []).push(`c${j + 1}`);
      for (const i of w.priority) if (i < w.n) (footers[`c${i + 1}`] ??= {}).priority = true;
      h.merge(batch, streamRef(project), footers);
      next += chunk;
    }
    onStep?.(h);
    if (h.state.paused) h.send({ type: 'command', at: h.now, verb: 'resume', change: ids[0]!, user: 'admin' });
    // a lone change held for company goes out when its hold ends, as a server's ticks send it
    if (h.inFlight().length === 0) h.wakeHeld();
    if (h.inFlight().length === 0 && next >= ids.length) {
      const open = Object.keys(culprits).filter((c) => !fixed.has(c));
      if (open.length === 0) break;
      mergeFixes(open);
      continue;
    }
    ciRound();
    for (const d of w.disputes) {
      if (d.round !== round) continue;
      const standing = h.state.verdicts.filter(
        (v) => !v.retracted && v.verdict === (d.verb === 'not-culprit' ? 'culprit' : 'blocked'),
      );
      const target = standing.at(-1);
      if (target) h.send({ type: 'command', at: h.now, verb: d.verb, change: target.change, user: 'dev' });
    }
    const blamed = [...h.verdicts().values()]
      .filter((v) => v.verdict === 'culprit' && v.change in culprits)
      .map((v) => v.change);
    mergeFixes(blamed);
  }
  return { h, culprits, projectOf, ids: [...ids, ...[...fixed].map((c) => `fix-${c}`)] };
}

describe('core properties', () => {
  it('every change ends with exactly one verdict, flakes or not', () => {
    // (a verdict the queue takes back itself, such as a block at once that a passing tip check
    // disproves, is marked retracted and reported again; only the standing ones count)
    fc.assert(
      fc.property(world(true), (w) => {
        const { h, ids } = play(w);
        const counts = h.standingVerdicts();
        expect(h.reports().length).toBe(h.state.verdicts.length);
        for (const id of ids) expect(counts.get(id), `verdicts for ${id}`).toBe(1);
        expect(h.inFlight()).toHaveLength(0);
      }),
      { numRuns: scaledRuns(150) },
    );
  });

  it('with no flakes, blames no innocent change and always blames the first culprit', () => {
    fc.assert(
      fc.property(world(false), (w) => {
        const { h, culprits, ids, projectOf } = play(w);
        const verdicts = h.verdicts();
        for (const v of verdicts.values())
          if (v.verdict === 'culprit') expect(v.change in culprits, `${v.change} blamed`).toBe(true);
        // (a change that depends on a culprit is removed with it, and so is the rest of its stream, by design)
        const first = ids.find((id) => id in culprits);
        const history = first ? (h.history.get(projectOf.get(first)!) ?? []) : [];
        const removedWithAnother = history
          .slice(0, history.indexOf(first!) + 1)
          .some((id) => (h.state.changes[id]?.dependsOn ?? []).some((d) => d in culprits));
        // (and a disputed culprit is tested again, maybe in one batch with its revert, which passes)
        const disputed = w.disputes.length > 0;
        if (first && !removedWithAnother && !disputed) expect(verdicts.get(first)?.verdict).toBe('culprit');
      }),
      { numRuns: scaledRuns(200) },
    );
  });

  it('with no flakes and fixes that revert, blames every culprit merged after the earlier ones were fixed', () => {
    // (a detectable culprit: every earlier culprit of its stream was reverted before it merged; one
    // that depends on a culprit is removed with it, and a disputed verdict is tested again)
    fc.assert(
      fc.property(
        world(false).map((w) => ({ ...w, reverts: true, deps: [], disputes: [] })),
        (w) => {
          const { h, culprits, projectOf } = play(w);
          for (const c of Object.keys(culprits)) {
            const history = h.history.get(projectOf.get(c)!) ?? [];
            const at = history.indexOf(c);
            const masked = Object.entries(culprits).some(([other, fix]) => {
              const i = history.indexOf(other);
              return i >= 0 && i < at && !(fix && history.indexOf(fix) >= 0 && history.indexOf(fix) < at);
            });
            if (!masked) expect(h.verdictOf(c), `${c}, detectable`).toBe('culprit');
          }
        },
      ),
      { numRuns: scaledRuns(200) },
    );
  });

  it('with no flakes and fixes that revert, blocks a change only when its prefix holds a culprit not yet fixed', () => {
    // (a fix that is no revert is blocked at once under broken.await_revert, by design, until a tip
    // check; and a change that depends on a culprit, or follows one that does, is removed with it)
    fc.assert(
      fc.property(
        world(false).map((w) => ({ ...w, reverts: true })),
        (w) => {
          const { h, culprits, projectOf } = play(w);
          const dependsOn = (id: string, on: string, seen = new Set<string>()): boolean =>
            !seen.has(id) &&
            (seen.add(id), (h.state.changes[id]?.dependsOn ?? []).some((d) => d === on || dependsOn(d, on, seen)));
          for (const v of h.verdicts().values()) {
            if (v.verdict !== 'blocked') continue;
            const history = h.history.get(projectOf.get(v.change)!) ?? [];
            const prefix = new Set(history.slice(0, history.indexOf(v.change) + 1));
            if ([...prefix].some((id) => dependsOn(id, v.culprit!))) continue;
            const broken = Object.entries(culprits).some(([c, fix]) => prefix.has(c) && !(fix && prefix.has(fix)));
            expect(broken, `${v.change} blocked by ${v.culprit}, but its prefix passes`).toBe(true);
          }
        },
      ),
      { numRuns: scaledRuns(200) },
    );
  });

  it('keeps history order and every change once, whatever push comes first and whatever the order and repetition of the rest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.nat(),
        (sizes, shuffle, runners, firstPick) => {
          const h = new Harness({ maxParallel: runners });
          const ids: string[] = [];
          const pushes = sizes.map((size, p) => {
            const mine = Array.from({ length: size }, (_, i) => `p${p}c${i}`);
            ids.push(...mine);
            return mine;
          });
          const sha = (id: string) => `sha-${id}`;
          const event = (p: number, at: number) => {
            const mine = pushes[p]!;
            const before = p === 0 ? 'base' : sha(pushes[p - 1]!.at(-1)!);
            return {
              type: 'merged' as const,
              at,
              stream: streamRef(),
              before,
              after: sha(mine.at(-1)!),
              changes: mine.map((id, i) => change(id, { parent: i === 0 ? before : sha(mine[i - 1]!) })),
            };
          };
          // the first push to arrive (any of them: events cross on their way) is the queue's starting
          // point; the rest come late, repeated and out of order, older history among them
          const first = firstPick % pushes.length;
          const rest = [...pushes.keys()].filter((p) => p !== first);
          for (const k of shuffle) rest.push(rest[k % Math.max(1, rest.length)] ?? 0);
          for (let i = rest.length - 1; i > 0; i--) {
            const j = (shuffle[i % Math.max(1, shuffle.length)] ?? 0) % (i + 1);
            [rest[i], rest[j]] = [rest[j]!, rest[i]!];
          }
          h.send(event(first, 0));
          rest.forEach((p, i) => h.send(event(p, i + 1)));
          const known = Object.values(h.state.changes)
            .sort((a, b) => a.seq - b.seq)
            .map((c) => c.id);
          expect(known).toEqual(ids);
        },
      ),
      { numRuns: scaledRuns(200) },
    );
  });

  it('finds one culprit among n changes within 1 + ceil(log_{k+1} n) + confirm rounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 6 }),
        fc.nat(),
        fc.integer({ min: 0, max: 2 }),
        (n, k, c, confirm) => {
          const culprit = `c${(c % n) + 1}`;
          const h = new Harness({ maxParallel: k, confirm, confidence: 0, batchMaxSize: 100 });
          h.merge(Array.from({ length: n }, (_, i) => `c${i + 1}`));
          const fails = h.brokenBy({ [culprit]: null });
          let rounds = 0;
          while (h.verdictOf(culprit) === undefined && rounds < 100) {
            h.round(fails);
            rounds += 1;
          }
          const bound = 1 + Math.ceil(Math.log(n) / Math.log(k + 1) - 1e-9) + confirm;
          expect(h.verdictOf(culprit)).toBe('culprit');
          expect(rounds, `n=${n} k=${k} confirm=${confirm}`).toBeLessThanOrEqual(bound);
        },
      ),
      { numRuns: scaledRuns(300) },
    );
  });

  it('a result for an unknown key changes nothing', () => {
    fc.assert(
      fc.property(
        world(true),
        fc.string(),
        fc.constantFrom('success', 'failure', 'error', 'cancelled') as fc.Arbitrary<'success'>,
        (w, key, status) => {
          let checked = 0;
          play({ ...w, n: Math.min(w.n, 10) }, (h) => {
            if (Object.hasOwn(h.state.runs, key)) return;
            const result = step(h.state, { type: 'run-finished', at: h.now, key, status });
            expect(result.state).toEqual(h.state);
            expect(result.effects.every((e) => e.type === 'log')).toBe(true);
            checked += 1;
          });
          expect(checked).toBeGreaterThan(0);
        },
      ),
      { numRuns: scaledRuns(60) },
    );
  });

  it('the state survives a JSON round trip at any step: stepping a copy gives the same result', () => {
    fc.assert(
      fc.property(world(true), (w) => {
        play({ ...w, n: Math.min(w.n, 12) }, (h) => {
          const copy = JSON.parse(JSON.stringify(h.state));
          expect(copy).toStrictEqual(h.state);
          const event = { type: 'tick' as const, at: h.now + 1 };
          expect(step(copy, event)).toStrictEqual(step(h.state, event));
        });
      }),
      { numRuns: scaledRuns(60) },
    );
  });
});

describe('confirming a suspect', () => {
  const view = fc.record({
    failures: fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 12 }),
    inFlight: fc.array(fc.nat({ max: 2 }), { minLength: 12, maxLength: 12 }),
    free: fc.integer({ min: 0, max: 6 }),
    flakeRate: fc.double({ min: 0.01, max: 0.3, noNaN: true }),
    culpritRate: fc.double({ min: 0.001, max: 0.3, noNaN: true }),
    confirm: fc.integer({ min: 0, max: 2 }),
    confidence: fc.constantFrom(0.9, 0.99, 0.999),
  });

  it('sends one run at a time while a flake is likelier, and none beside a run over the suspect', () => {
    fc.assert(
      fc.property(view, (v) => {
        const failures = [Math.max(1, v.failures[0]!), ...v.failures.slice(1)];
        const sv = { ...v, size: failures.length, failures, inFlight: v.inFlight.slice(0, failures.length) };
        const p0 = posterior(sv.failures, sv.flakeRate, sv.culpritRate).first[0]!;
        const planned = bisect.plan(sv);
        expect(planned.every((p) => p === 0)).toBe(true);
        expect(planned.length).toBeLessThanOrEqual(sv.free);
        if (p0 < 0.5) {
          const busy = sv.inFlight.some((n) => n > 0);
          expect(planned.length, `p0 ${p0}`).toBe(busy || sv.free === 0 ? 0 : 1);
        }
      }),
      { numRuns: scaledRuns(500) },
    );
  });
});
