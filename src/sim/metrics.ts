// The simulator's metrics (README, "Simulator reference"), computed from the true stream and the verdicts given.

export interface SimTruth {
  /** Change ids in merge order. */
  order: string[];
  mergedAt: Map<string, number>;
  culprits: Set<string>;
  /** culprit -> the change that fixed it. */
  fixOf: Map<string, string>;
  /** Fixes that are not reverts (--forward-fix-share). */
  forwardFixes: Set<string>;
  /** Changes marked priority (--priority-share). */
  priority: Set<string>;
  /** Final verdict per change, with its time in T. */
  verdicts: Map<string, { verdict: string; culprit?: string | undefined; at: number }>;
  /** When a change was told its final verdict, in T, where that came before it was final (an early pass that stood). */
  told?: Map<string, number>;
}

export interface SimVerdict {
  id: string;
  verdict: string;
  culprit?: string;
  /** When the final verdict was given, in T. */
  at: number;
  /** Time from merge to that verdict, in T. */
  ttv: number;
  /** It was marked priority (--priority-share). */
  priority?: boolean;
}

export interface SimMetrics {
  runs_per_change: number;
  ttv_mean: number;
  ttv_p90: number;
  /**
   * Time from merge to when the change was told the verdict it kept, in T: a provisional pass that
   * stood (flaky.early_pass) counts from when it was told; otherwise the same as `ttv_*`.
   */
  told_mean: number;
  told_p90: number;
  false_blame_rate: number;
  /** Changes given a culprit verdict, rightly or not. */
  blamed: number;
  culprits_found: number;
  missed_culprits: number;
  masked_culprits: number;
  changes: number;
  runs: number;
  unfinished: number;
  /**
   * With forward fixes: how many merged; how many got `fixed`, and how many `blocked` (wrongly: they
   * repaired the stream); and the longest time, in T, from a forward fix's merge to the first verdict
   * `passed` or `fixed` on it or a later change, that is until the stream was seen repaired.
   */
  forward_fixes?: {
    merged: number;
    fixed: number;
    blocked: number;
    longest_to_repair: number | null;
    /** The longest time to repair among the forward fixes that saw it, and how many never did (at a run's end). */
    longest_repaired: number;
    unrepaired: number;
    /**
     * The longest time to repair among forward fixes that made their stream whole and that no new
     * culprit broke again before it was seen: how long a stream fixed forward waits for `fixed`.
     */
    longest_while_whole: number;
  };
  /** With --priority-share: p90 time to verdict of the priority changes, and of the others. */
  p90_priority?: number;
  p90_others?: number;
  /** The queue's own estimate of the flake rate at the end (core/lines.ts estimatedRates). */
  flake_rate_estimate?: number;
  /** With --tests: the provisional passes given (flaky.early_pass), and how many a later verdict took back. */
  early_passes?: { given: number; taken_back: number };
  verdicts?: SimVerdict[];
  /** With the verdicts: the culprits that were detectable and not blamed. */
  missed_ids?: string[];
  /** With the verdicts: the forward fixes (--forward-fix-share), in merge order. */
  forward_fix_ids?: string[];
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function computeMetrics(truth: SimTruth, runs: number, withVerdicts: boolean): SimMetrics {
  const ttv: number[] = [];
  const told: number[] = [];
  let unfinished = 0;
  for (const id of truth.order) {
    const v = truth.verdicts.get(id);
    if (!v) unfinished += 1;
    else {
      ttv.push(v.at - truth.mergedAt.get(id)!);
      told.push((truth.told?.get(id) ?? v.at) - truth.mergedAt.get(id)!);
    }
  }
  ttv.sort((a, b) => a - b);
  told.sort((a, b) => a - b);
  const mean = (xs: number[]) => round(xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const blamed = truth.order.filter((id) => truth.verdicts.get(id)?.verdict === 'culprit');
  const innocent = blamed.filter((id) => !truth.culprits.has(id)).length;
  const index = new Map(truth.order.map((id, i) => [id, i]));
  let missed = 0;
  const missedIds: string[] = [];
  let masked = 0;
  let found = 0;
  const earlier: string[] = [];
  for (const id of truth.order) {
    if (!truth.culprits.has(id)) continue;
    const i = index.get(id)!;
    const detectable = earlier.every((c) => {
      const fix = truth.fixOf.get(c);
      return fix !== undefined && (index.get(fix) ?? Infinity) < i;
    });
    const isBlamed = truth.verdicts.get(id)?.verdict === 'culprit';
    if (isBlamed) found += 1;
    if (!detectable) masked += 1;
    else if (!isBlamed) {
      missed += 1;
      missedIds.push(id);
    }
    earlier.push(id);
  }
  const metrics: SimMetrics = {
    runs_per_change: round(truth.order.length ? runs / truth.order.length : 0),
    ttv_mean: mean(ttv),
    ttv_p90: round(quantile(ttv, 0.9)),
    told_mean: mean(told),
    told_p90: round(quantile(told, 0.9)),
    false_blame_rate: round(blamed.length ? innocent / blamed.length : 0),
    blamed: blamed.length,
    culprits_found: found,
    missed_culprits: missed,
    masked_culprits: masked,
    changes: truth.order.length,
    runs,
    unfinished,
  };
  if (truth.forwardFixes.size) metrics.forward_fixes = forwardFixFigures(truth);
  if (truth.priority.size) Object.assign(metrics, priorityFigures(truth));
  if (withVerdicts) {
    metrics.missed_ids = missedIds;
    if (truth.forwardFixes.size) metrics.forward_fix_ids = truth.order.filter((id) => truth.forwardFixes.has(id));
    metrics.verdicts = truth.order.flatMap((id) => {
      const v = truth.verdicts.get(id);
      if (!v) return [];
      return [
        {
          id,
          verdict: v.verdict,
          ...(v.culprit && v.culprit !== id ? { culprit: v.culprit } : {}),
          ...(truth.priority.has(id) ? { priority: true } : {}),
          at: round(v.at),
          ttv: round(v.at - truth.mergedAt.get(id)!),
        },
      ];
    });
  }
  return metrics;
}

function forwardFixFigures(truth: SimTruth): NonNullable<SimMetrics['forward_fixes']> {
  let fixed = 0;
  let blocked = 0;
  let unrepaired = 0;
  let longestRepaired = 0;
  let longestWhole = 0;
  const index = new Map(truth.order.map((c, i) => [c, i]));
  for (const id of truth.forwardFixes) {
    const own = truth.verdicts.get(id)?.verdict;
    if (own === 'fixed') fixed += 1;
    if (own === 'blocked') blocked += 1;
    const from = index.get(id)!;
    const repaired = truth.order
      .slice(from)
      .map((c) => truth.verdicts.get(c))
      .filter((v) => v?.verdict === 'passed' || v?.verdict === 'fixed')
      .map((v) => v!.at);
    if (repaired.length === 0) {
      unrepaired += 1;
      continue;
    }
    const seenAt = Math.min(...repaired);
    const took = seenAt - truth.mergedAt.get(id)!;
    longestRepaired = Math.max(longestRepaired, took);
    // whole at the fix: every earlier culprit fixed by then; and no culprit merged after it before it was seen
    const wholeAtFix = [...truth.culprits].every((c) => {
      const at = index.get(c)!;
      return at > from || (index.get(truth.fixOf.get(c) ?? '') ?? Infinity) <= from;
    });
    const brokenAgain = [...truth.culprits].some((c) => index.get(c)! > from && truth.mergedAt.get(c)! < seenAt);
    if (wholeAtFix && !brokenAgain) longestWhole = Math.max(longestWhole, took);
  }
  return {
    merged: truth.forwardFixes.size,
    fixed,
    blocked,
    longest_to_repair: unrepaired > 0 ? null : round(longestRepaired),
    longest_repaired: round(longestRepaired),
    unrepaired,
    longest_while_whole: round(longestWhole),
  };
}

/** p90 time to verdict of the priority changes and of the others. */
function priorityFigures(truth: SimTruth): { p90_priority: number; p90_others: number } {
  const ttv = (priority: boolean) =>
    truth.order
      .filter((id) => truth.priority.has(id) === priority && truth.verdicts.has(id))
      .map((id) => truth.verdicts.get(id)!.at - truth.mergedAt.get(id)!)
      .sort((a, b) => a - b);
  return { p90_priority: round(quantile(ttv(true), 0.9)), p90_others: round(quantile(ttv(false), 0.9)) };
}
