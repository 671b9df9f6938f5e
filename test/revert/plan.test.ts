// Which culprits a step reverts (revert/plan.ts): only with revert.auto, each confirmed culprit once,
// and the guards the queue judges itself (confidence, age, merged dependents, the daily limit) turn
// the revert into a reason to post; a revert already in the queue leaves nothing to do. The daily
// count is kept by the step's bookkeeping, so a replay counts the same.
import { describe, expect, it } from 'vitest';
import type { VerdictRecord } from '../../src/core/index.ts';
import { dayOf, withOpened } from '../../src/engine/health.ts';
import { recordStep } from '../../src/engine/replay.ts';
import { plannedReverts, type RevertSettings } from '../../src/revert/plan.ts';
import type { QueueFile } from '../../src/store/types.ts';
import { Harness } from '../helpers/harness.ts';

const H = 3_600_000;
const ON: RevertSettings = { auto: true, confidence: 0.99, max_age: 24 * H, daily_limit: 4, submit: false };

/** A queue where `bad` was just named the culprit; its step's effects and the file around its state. */
function culpritStep(revert: RevertSettings = ON, extra: Parameters<Harness['merge']>[2] = {}) {
  const h = new Harness({ maxParallel: 1, confirm: 1, confidence: 0.9 });
  h.merge(['ok', 'bad', 'after'], undefined, extra);
  for (let i = 0; i < 10 && h.verdictOf('bad') !== 'culprit'; i++) h.round(h.brokenBy({ bad: null }));
  const report = h.effects.filter((e) => e.type === 'report' && e.verdict.verdict === 'culprit');
  const file = { state: h.state, reverts: [] as QueueFile['reverts'], repoConfig: { revert } };
  return { h, file, effects: report };
}

describe('planned reverts', () => {
  it('reverts a confirmed culprit only with revert.auto, carrying its confidence, evidence and submit', () => {
    const { file, effects } = culpritStep();
    const [revert, ...more] = plannedReverts(file, effects);
    expect(more).toEqual([]);
    expect(revert).toMatchObject({ type: 'revert', change: 'bad', submit: false });
    expect(revert!.refused).toBeUndefined();
    expect(revert!.confidence).toBeGreaterThan(0.99);
    expect(revert!.evidence.some((e) => e.result === 'failed')).toBe(true);
    expect(plannedReverts({ ...file, repoConfig: { revert: { ...ON, auto: false } } }, effects)).toEqual([]);
    expect(plannedReverts({ state: file.state }, effects)).toEqual([]);
  });

  it('says why when the confidence is below revert.confidence (and never below flaky.confidence)', () => {
    const { file, effects } = culpritStep({ ...ON, confidence: 0.999999 });
    expect(plannedReverts(file, effects)[0]!.refused).toMatch(
      /its confidence, \d+\.\d+%, is below the 100\.00% a revert needs/,
    );
    file.state.settings.confidence = 0.999999;
    const low = culpritStep({ ...ON, confidence: 0 });
    low.file.state.settings.confidence = 0.999999;
    expect(plannedReverts(low.file, low.effects)[0]!.refused).toMatch(/below the 100\.00% a revert needs/);
  });

  it('says why for a culprit older than revert.max_age, or one that merged changes depend on', () => {
    const old = culpritStep({ ...ON, max_age: 1 });
    const verdict = (old.effects[0] as { verdict: VerdictRecord }).verdict;
    old.file.state.changes.bad!.mergedAt = verdict.at - 2 * H;
    expect(plannedReverts(old.file, old.effects)[0]!.refused).toBe(
      'it merged 2 h ago, longer than revert.max_age (0 h)',
    );
    const deps = culpritStep(ON, { after: { dependsOn: ['bad'] } });
    expect(plannedReverts(deps.file, deps.effects)[0]!.refused).toBe(
      'merged changes depend on it (after): reverting it alone would break them',
    );
  });

  it('keeps to revert.daily_limit, counting reverts opened earlier that day', () => {
    const { file, effects } = culpritStep({ ...ON, daily_limit: 1 });
    const at = (effects[0] as { verdict: VerdictRecord }).verdict.at;
    file.reverts = [{ day: dayOf(at), count: 1 }];
    expect(plannedReverts(file, effects)[0]!.refused).toBe(
      'the queue opened 1 revert(s) today, its revert.daily_limit of 1',
    );
    file.reverts = [{ day: dayOf(at - 24 * H), count: 1 }];
    expect(plannedReverts(file, effects)[0]!.refused).toBeUndefined();
  });

  it('opens nothing when a revert of the culprit is in the queue already', () => {
    const { h, file, effects } = culpritStep();
    h.merge(['revert'], undefined, { revert: { reverts: ['bad'] } });
    expect(plannedReverts({ ...file, state: h.state }, effects)).toEqual([]);
  });

  it("counts the reverts a step opened in the queue's file, the same on replay", () => {
    const { h } = culpritStep();
    const file = {
      schema: 1,
      name: 'q',
      state: h.state,
      outbox: [],
      notices: [],
      deliveries: [],
      historyMoved: 0,
    } as QueueFile;
    const revert = { type: 'revert' as const, change: 'bad', confidence: 1, evidence: [], submit: false };
    const at = Date.UTC(2026, 11, 2, 10);
    const record = (refused?: string) => ({
      type: 'step' as const,
      at,
      n: 1,
      event: { type: 'tick' as const, at },
      outbox: [{ id: 'a', key: 'revert:a', effect: { ...revert, ...(refused ? { refused } : {}) } }],
    });
    recordStep(file, record(), [], { stats: h.state.stats, seq: h.state.seq });
    recordStep(file, record('limit'), [], { stats: h.state.stats, seq: h.state.seq });
    expect(file.reverts).toEqual([{ day: '2026-12-02', count: 1 }]);
    expect(withOpened(withOpened([], at, 2), at + 5 * 24 * H, 1)).toEqual([
      { day: '2026-12-02', count: 2 },
      { day: '2026-12-07', count: 1 },
    ]);
  });
});
