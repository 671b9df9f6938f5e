// The data model of a queue's tests, for culprits per failing test: what a run's CI said of its
// tests, and the test book (each test's failures, flakes, quarantine and streak). Part of the
// queue's state (types.ts re-exports it).

/** What a run's CI said of its tests. */
export interface RunTests {
  /** Ids of the failing tests, sorted, at most `MAX_RUN_FAILURES` of them. */
  failed: string[];
  /** How many tests failed in all (more than `failed` lists when cut). */
  failedCount: number;
  /** How many passed, when the CI said. */
  passed?: number;
}

/** A change the runs of a quarantined test's streak held: in how many of them, and when it passed. */
export interface StreakSuspect {
  id: string;
  runs: number;
  /** Its stream and sha: which runs hold it (a run's sha of that stream is it or later). */
  stream?: string;
  sha?: string;
  /** When it passed: every main-line run made after that holds it (its stream's good sha does). */
  passedAt?: number;
  /** What a run of the prefix up to it checks out: the first run that held it, its project moved back to it. */
  refs?: Record<string, string>;
}

/** What the queue knows of one test that failed at least once (test-book.ts). */
export interface TestRecord {
  /** Failures of runs that ended failed for it. */
  failures: number;
  /** Of those, failures later shown to be flakes. */
  flakes: number;
  /** When it last failed. */
  lastFailedAt: number;
  /** Set while its flake rate is above `flaky.quarantine`: its failures do not stop the line. */
  quarantinedSince?: number;
  /** While quarantined and failing: the main line's runs that failed it since it last passed. */
  streak?: Streak;
}

/**
 * A quarantined test's streak (quarantine-streak.ts): how many runs failed it, the change whose run
 * began them, the changes those runs held, whether more changes were held than are kept, and
 * whether a culprit or a notice was given.
 */
export interface Streak {
  runs: number;
  since: string;
  /** A bare id: a streak recorded before suspects were counted, whose changes were in every run. */
  suspects: (StreakSuspect | string)[];
  crowded?: boolean;
  named?: boolean;
  noticed?: boolean;
  /** Its quarantine checks in a row that ended without a result (quarantine-check.ts). */
  checksWithoutResult?: number;
}

/** The queue's record of its tests: each failing test's own counts, and the runs they count against. */
export interface TestBook {
  /** Runs with test results that turned out to pass or flake: the chances every test had to flake. */
  judgedRuns: number;
  /** The most tests a run reported (passed and failed), when the CI says how many passed. */
  suiteSize?: number;
  /** Culprits named with their tests, and how many tests they broke in all: how many tests a culprit breaks. */
  culprits?: number;
  brokenTests?: number;
  tests: Record<string, TestRecord>;
}
