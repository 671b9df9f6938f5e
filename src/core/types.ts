// The plain-JSON data model of one queue: changes, runs, verdicts, streams and settings (the events the
// core accepts and the effects it returns are in events.ts).
import type { TryTarget } from './events.ts';
import type { RunTests, TestBook } from './test-types.ts';

/** Where a change lives: `<host>:<project>@<branch>`. Every change of a stream contains all earlier ones. */
export interface StreamRef {
  host: string;
  project: string;
  branch: string;
}

/** A merged change as an adapter hands it to the core. */
export interface ChangeInput {
  /** Stable id: `github:owner/repo#123`, `github:owner/repo@<sha>`, `gerrit:<host>/<project>~<n>`, `git:<name>@<sha>`. */
  id: string;
  /** The commit at the tip of the branch right after this change merged. */
  sha: string;
  /** The commit the change was merged on top of, when known. */
  parent?: string | null;
  number?: number | null;
  title?: string;
  url?: string | null;
  author?: string | null;
  /** The author's mail address, when the code host says it (a commit's author; Gerrit's change owner). */
  authorEmail?: string | null;
  mergedAt?: number | null;
  /** Change ids this change must not be tested before (from `Depends-On:` footers, already resolved). */
  dependsOn?: string[];
  /** Changes (ids or shas) this change reverts, from "This reverts commit <sha>" and the like. */
  reverts?: string[];
  /** The change jumps the line: the next run covers the prefix up to it at once (a label, a hashtag, `/ost priority`). */
  priority?: boolean;
  /** Set by an adapter when the change must not be tested at all (for example a path filter). */
  skipReason?: string | null;
  /**
   * Other changes that landed in the same commit, oldest first: a stack that Gerrit merged with one
   * merge commit. The commit is what can be tested, so they share this change's verdict and messages.
   */
  landedWith?: LandedWith[];
}

/** A change that landed in the same commit as another, as its code host names it. */
export interface LandedWith {
  id: string;
  number?: number | null;
  title?: string;
  url?: string | null;
  author?: string | null;
}

export type ChangeState = 'waiting' | 'queued' | 'done';

/** A change the queue knows about. */
export interface ChangeRecord extends ChangeInput {
  host: string;
  project: string;
  branch: string;
  stream: string;
  /** Position in the order the queue learned about changes; breaks ties between streams. */
  seq: number;
  state: ChangeState;
  enqueuedAt: number;
  verdict?: VerdictKind;
  /** For `blocked` and `fixed`: the culprit named by the verdict. */
  culprit?: string;
  /** The run whose likely flakes told it a provisional `passed` (early-pass.ts), until its final verdict. */
  passedEarly?: string;
}

/** Every verdict kind, the one list the config schema and the messages use. `rejected` and `error` are never given (docs/architecture.md, "Verdicts"). */
export const VERDICT_KINDS = ['passed', 'culprit', 'blocked', 'fixed', 'skipped', 'rejected', 'error'] as const;
export type VerdictKind = (typeof VERDICT_KINDS)[number];

export interface Evidence {
  key: string;
  /** The last change included in the tested prefix. */
  end: string;
  result: 'passed' | 'failed';
  url?: string | null;
}

export interface VerdictRecord {
  change: string;
  verdict: VerdictKind;
  /** For `blocked` and `fixed`: the culprit; for `culprit`: itself. */
  culprit?: string;
  /** For `culprit`: posterior probability that this change is the first failing one. */
  confidence?: number;
  /** The run key the verdict was decided on. */
  run?: string;
  at: number;
  reason?: string;
  evidence?: Evidence[];
  /** For `culprit`: the changes it blocked at the time of the verdict. */
  blocked?: string[];
  /** For `culprit`, when the CI reports tests: the tests it broke (the first few, sorted). */
  tests?: string[];
  /** How many tests it broke in all, when more than `tests` lists. */
  testsBroken?: number;
  /** Set when a command reopened the change (a later verdict follows), or a later verdict replaced this one. */
  retracted?: boolean;
  /**
   * A `passed` given before the run that makes sure ended: the change's run failed only in these
   * tests, every failure a flake with chance `flake` (early-pass.ts). Dropped once it is final.
   */
  provisional?: { tests: string[]; flake: number };
}

export type RunState = 'dispatched' | 'running' | 'passed' | 'failed' | 'error' | 'timed-out' | 'cancelled';
/**
 * `try`: a run of an open change over the queue's last passing commits (tries.ts); `quarantine-check`:
 * a run of an old prefix for a quarantined test that keeps failing (quarantine-check.ts). Neither is a line's run.
 */
export type RunKind = 'batch' | 'probe' | 'confirm' | 'retry' | 'check' | 'try' | 'quarantine-check';

/** One system-test run over a prefix of a line. */
export interface Run {
  key: string;
  /** `main` for the queue's line, or the id of a broken stream whose fix is searched. */
  line: string;
  kind: RunKind;
  /** The last change of the tested prefix. */
  end: string;
  /** The changes without a verdict that the prefix covers, in line order. */
  changes: string[];
  /** project -> sha: what the CI checks out. */
  refs: Record<string, string>;
  state: RunState;
  attempt: number;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  deadline: number;
  url?: string | null;
  ciRunId?: string | number | null;
  /** Where it was sent (`github-actions:<repo>:<workflow>`, `jenkins:<job>`, `webhook:<name>`, `command:<name>`). */
  target?: string;
  /** Its result can no longer change anything (the line moved on). */
  superseded?: boolean;
  /** A failure that later evidence showed to be a flake. */
  flake?: boolean;
  /** Why it could not produce a result (an infra error), when known. */
  error?: string;
  /** The failing tests its CI reported (test-book.ts); absent when the CI reports none (one bit per run). */
  tests?: RunTests;
  /** Failing tests of this run that later runs showed to be flakes. */
  flakyTests?: string[];
  /** Failing tests that were quarantined when it ended: they did not make it fail. */
  quarantined?: string[];
  /** For a `try` run: the open change it tries, and who asked. */
  try?: TryTarget;
  /** For a `quarantine-check` run: the quarantined test whose suspects it weighs. */
  checksTest?: string;
}

export interface BrokenStream {
  culprit: string;
  since: number;
  /** Changes of this stream held behind the culprit, oldest first, still without a verdict. */
  line: string[];
  /** When the stream's tip was last checked while no revert was waiting (see `awaitRevert`). */
  checkedAt?: number;
  /** Changes blocked at once since the last tip check (or the break): each may have fixed it forward. */
  sinceCheck?: number;
  /** A change blocked at once since the last tip check names the culprit in its title: it may fix it. */
  fixHint?: boolean;
  /**
   * The tests the culprits of this break broke, when the CI reports tests: another test failing in a
   * run that held the culprit flaked, once the run that makes the stream whole passes it (test-book.ts);
   * `null` when there were too many to keep.
   */
  tests?: string[] | null;
}

/** A push that arrived before the history it builds on. */
export interface EarlyMerge {
  before: string;
  after?: string | null;
  changes: ChangeInput[];
  at: number;
  deadline: number;
}

export interface StreamState {
  id: string;
  host: string;
  project: string;
  branch: string;
  /** Newest sha seen on the branch. */
  tip: string | null;
  /** Last sha known to pass (or assumed good when the queue started). */
  good: string | null;
  /**
   * The parent of the stream's first change: where the queue started. A push that ends there is
   * history from before the start that arrived late, and is tested ahead of the stream's changes.
   */
  base?: string | null;
  /** The run that last proved `good`, when there was one. */
  goodRun?: string | null;
  /** Changes not yet fed into a line (waiting for a dependency, or behind one), oldest first. */
  pending: string[];
  broken: BrokenStream | null;
  early: EarlyMerge[];
  /** Shas of this stream's changes that the queue has seen (bounded). */
  shas: string[];
}

export type StrategyName = string;

/** Numeric settings the core works with; the config layer maps the repo config onto these. */
export interface QueueSettings {
  maxParallel: number;
  timeoutMs: number;
  retries: number;
  batchMaxSize: number;
  /** The batching policy by name (batching/index.ts): how runs over new changes go out. */
  batching: string;
  /** How many runs over new, untested changes may be in flight at once; 0: as many as `maxParallel` allows. */
  batchMaxInFlight: number;
  /**
   * In a broken stream, block a new change at once unless it reverts the culprit (or follows a
   * revert still untested), instead of testing every new tip; and check the tip, at most every
   * `recheckMs`, when the stream may have been fixed without a revert (see tip-check.ts dispatchCheck).
   */
  awaitRevert: boolean;
  /**
   * Treat a revert of the culprit as the likely fix: test it alone when a prefix above it fails, re-run
   * it before blocking it, and test one merged before the verdict instead of blocking it. Always on
   * for real queues (not in the repo config); the benchmark's baselines turn it off, since the
   * systems they model know nothing of reverts.
   */
  revertAware: boolean;
  recheckMs: number;
  /** Search runs (probes, and re-runs confirming a failure) at once while searching for a culprit; 0: as many as runners allow (k-ary search). */
  searchWidth: number;
  /** Keep testing new changes while a failure is searched: a later passing prefix clears a flake at once. */
  speculate: boolean;
  /**
   * A lone new change waits for company before its run goes out, up to this share of the queue's
   * mean run time (`stats.runMs`), so that two changes share one run; 0: never waits.
   */
  holdShare: number;
  confirm: number;
  strategy: StrategyName;
  confidence: number;
  dependencyTimeoutMs: number;
  /** `flaky.quarantine`: a test whose flake rate is above this no longer stops the line; null: never. */
  quarantine: number | null;
  /**
   * `flaky.early_pass`: a main-line run that failed only in tests known to flake, each failure at
   * least this likely a flake, tells its changes a provisional `passed` at once; null: never.
   */
  earlyPass: number | null;
  /** How long a push that arrived ahead of its history waits for the gap to fill. */
  gapTimeoutMs: number;
  /** `try.max_parallel`: try runs of open changes at once, on runners the queue leaves idle. */
  tryMaxParallel: number;
}

export interface QueueStats {
  runsFinished: number;
  runsFailed: number;
  flakes: number;
  culprits: number;
  verdicts: number;
  infraRetries: number;
  /** Mean time from dispatch to result of the runs that passed or failed (moving average), in ms. */
  runMs?: number;
}

export interface QueueState {
  schema: 1;
  name: string;
  keyPrefix: string;
  settings: QueueSettings;
  paused: { reason: string; by?: string | null; at: number } | null;
  seq: number;
  streams: Record<string, StreamState>;
  changes: Record<string, ChangeRecord>;
  /** Ids of finished changes dropped from `changes` to keep the state small (bounded), so they are still recognised. */
  forgotten: string[];
  /** The main line: changes under test, in the order they are tested. */
  active: string[];
  runs: Record<string, Run>;
  /** Newest verdicts, oldest first; the store moves older ones to the history file. */
  verdicts: VerdictRecord[];
  stats: QueueStats;
  /** Per-test counts, once a CI reported tests (absent before: one bit per run). */
  testBook?: TestBook;
  /** `/ost try` requests waiting for an idle runner, oldest first (tries.ts). */
  tries?: TryTarget[];
}

export * from './events.ts';
export * from './test-types.ts';
