// Drives the real core step by step for tests: merges changes, finishes runs, collects effects and verdicts.
import type { QueueFile } from '../../src/store/types.ts';
import {
  emptyQueue,
  heldUntil,
  step,
  type ChangeInput,
  type CoreEvent,
  type Effect,
  type QueueSettings,
  type QueueState,
  type Run,
  type RunStatus,
  type StreamRef,
  type VerdictRecord,
} from '../../src/core/index.ts';

export const HOUR = 3_600_000;

export function streamRef(project = 'app', branch = 'main', host = 'git'): StreamRef {
  return { host, project, branch };
}

export function change(id: string, extra: Partial<ChangeInput> = {}): ChangeInput {
  return { id, sha: `sha-${id}`, title: `change ${id}`, ...extra };
}

export class Harness {
  state: QueueState;
  now = 0;
  readonly effects: Effect[] = [];
  /** Last sha pushed per stream, so merges chain by default. */
  private tips = new Map<string, string>();
  /** Change ids per project in merge order, and sha -> change id: the truth a test CI judges prefixes by. */
  readonly history = new Map<string, string[]>();
  readonly bySha = new Map<string, string>();

  constructor(settings: Partial<QueueSettings> = {}, name = 'q') {
    this.state = emptyQueue(name, { retries: 0, ...settings }, name);
  }

  send(event: CoreEvent): Effect[] {
    const result = step(this.state, event);
    this.state = result.state;
    this.effects.push(...result.effects);
    return result.effects;
  }

  /** Merges changes in one push on top of the stream's last push. */
  merge(ids: string[], ref: StreamRef = streamRef(), extra: Record<string, Partial<ChangeInput>> = {}): Effect[] {
    const key = `${ref.host}:${ref.project}@${ref.branch}`;
    const before = this.tips.get(key) ?? 'base';
    const changes = ids.map((id) => change(id, { ...extra[id] }));
    const after = changes.at(-1)!.sha;
    this.tips.set(key, after);
    const list = this.history.get(ref.project) ?? [];
    for (const c of changes) {
      list.push(c.id);
      this.bySha.set(c.sha, c.id);
    }
    this.history.set(ref.project, list);
    return this.send({
      type: 'merged',
      at: this.now,
      stream: ref,
      before,
      after,
      changes: changes.map((c, i) => ({ ...c, parent: i === 0 ? before : changes[i - 1]!.sha })),
    });
  }

  inFlight(): Run[] {
    return Object.values(this.state.runs)
      .filter((r) => r.state === 'dispatched' || r.state === 'running')
      .sort((a, b) => a.createdAt - b.createdAt || seqOf(a.key) - seqOf(b.key));
  }

  finish(key: string, status: RunStatus): Effect[] {
    return this.send({ type: 'run-finished', at: this.now, key, status });
  }

  /**
   * Lets the time pass until a lone change held for company goes out (`batch.hold`), with the tick a
   * server sends; does nothing when no change is held.
   */
  wakeHeld(): void {
    const until = heldUntil(this.state);
    if (until === null) return;
    this.now = Math.max(this.now, Math.ceil(until));
    this.send({ type: 'tick', at: this.now });
  }

  /**
   * Finishes every run in flight at once, an hour later; `fails(run)` decides each result. A lone
   * change held for company goes out first, when its hold ends.
   */
  round(fails: (run: Run) => boolean): Run[] {
    this.wakeHeld();
    const runs = this.inFlight();
    this.now += HOUR;
    for (const r of runs) {
      if (this.state.runs[r.key]?.state !== 'dispatched' && this.state.runs[r.key]?.state !== 'running') continue;
      this.finish(r.key, fails(r) ? 'failure' : 'success');
    }
    return runs;
  }

  /**
   * Like `round`, with a CI that reports tests: `failing(run)` names the tests that fail in each run
   * (none: it passes), out of a suite of `suite` tests.
   */
  testRound(failing: (run: Run) => string[], suite = 100): Run[] {
    this.wakeHeld();
    const runs = this.inFlight();
    this.now += HOUR;
    for (const r of runs) {
      if (this.state.runs[r.key]?.state !== 'dispatched' && this.state.runs[r.key]?.state !== 'running') continue;
      const failed = failing(r);
      this.send({
        type: 'run-finished',
        at: this.now,
        key: r.key,
        status: failed.length > 0 ? 'failure' : 'success',
        tests: { failed, passed: suite - failed.length },
      });
    }
    return runs;
  }

  /** A CI reporting tests: each culprit breaks its tests in every run that holds it without its fix. */
  breaksTests(culprits: Record<string, string[]>): (run: Run) => string[] {
    return (run: Run) => {
      const ids = this.contents(run);
      return [...new Set(Object.entries(culprits).flatMap(([c, tests]) => (ids.has(c) ? tests : [])))].sort();
    };
  }

  /** How many standing (not retracted) verdicts each change has in the state. */
  standingVerdicts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const v of this.state.verdicts) if (!v.retracted) counts.set(v.change, (counts.get(v.change) ?? 0) + 1);
    return counts;
  }

  /** Reports emitted so far, one per verdict given. */
  reports(): VerdictRecord[] {
    return this.effects.flatMap((e) => (e.type === 'report' ? [e.verdict] : []));
  }

  /** Final verdict per change: the last report for it. */
  verdicts(): Map<string, VerdictRecord> {
    const out = new Map<string, VerdictRecord>();
    for (const v of this.reports()) out.set(v.change, v);
    return out;
  }

  verdictOf(id: string): string | undefined {
    return this.verdicts().get(id)?.verdict;
  }

  dispatched(): Extract<Effect, { type: 'dispatch' }>['run'][] {
    return this.effects.flatMap((e) => (e.type === 'dispatch' ? [e.run] : []));
  }

  ofType<T extends Effect['type']>(type: T): Extract<Effect, { type: T }>[] {
    return this.effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
  }

  /** Every change id the run's refs contain, across projects. */
  contents(run: Run): Set<string> {
    const out = new Set<string>();
    for (const [project, sha] of Object.entries(run.refs)) {
      const list = this.history.get(project) ?? [];
      const end = list.indexOf(this.bySha.get(sha) ?? '');
      for (let i = 0; i <= end; i++) out.add(list[i]!);
    }
    return out;
  }

  /** The queue as the dashboard reads it: its state in a queue file, its runs sent to `provider`. */
  file(provider = 'command:ost'): QueueFile {
    return {
      schema: 1,
      name: this.state.name,
      state: this.state,
      outbox: [],
      notices: [],
      deliveries: [],
      historyMoved: 0,
      ci: { provider },
    };
  }

  /** A CI that fails a run when its refs hold a culprit whose fix they do not hold. */
  brokenBy(culprits: Record<string, string | null>): (run: Run) => boolean {
    return (run: Run) => {
      const ids = this.contents(run);
      return Object.entries(culprits).some(([c, fix]) => ids.has(c) && !(fix && ids.has(fix)));
    };
  }
}

function seqOf(key: string): number {
  return Number(key.split('.').at(-1));
}
