// ChangeQueue: the queue logic of one queue. It mutates a private copy of the state for one event
// and collects the effects to perform; `step` in step.ts is the pure entry point around it.
import { bisect } from './strategies/bisect.ts';
import type { Strategy } from './strategies/strategy.ts';
import { MAIN, isInFlight, liveRuns, searchView, viewLine, type LineView } from './lines.ts';
import { firstUnmetDependency, isDependencyLoop } from './dependencies.ts';
import { own } from './own.ts';
import type {
  ChangeInput,
  ChangeRecord,
  CoreEvent,
  Effect,
  Evidence,
  QueueState,
  Run,
  RunKind,
  RunState,
  StreamRef,
  StreamState,
  VerdictKind,
  VerdictRecord,
} from './types.ts';

const SHA_MEMORY = 5000;
const DONE_CHANGES_KEPT = 50;
const FINISHED_RUNS_KEPT = 50;
const FORGOTTEN_IDS_KEPT = 2000;

export function streamId(ref: StreamRef): string {
  return `${ref.host}:${ref.project}@${ref.branch}`;
}

export class ChangeQueue {
  readonly effects: Effect[] = [];

  constructor(
    readonly state: QueueState,
    private readonly strategies: Readonly<Record<string, Strategy>>,
  ) {}

  /** Applies one event, then feeds, settles and schedules. Mutates `state`; appends to `effects`. */
  handle(event: CoreEvent): void {
    switch (event.type) {
      case 'merged':
        this.merge(event.stream, event.changes, event.at, event.before ?? null, event.after ?? null, !!event.forced);
        break;
      case 'run-started':
        this.runStarted(event.key, event.at, event.url, event.ciRunId);
        break;
      case 'run-finished':
        this.runFinished(event.key, event.status, event.at, event.url);
        break;
      case 'tick':
        this.tick(event.at);
        break;
      case 'command':
        this.command(event);
        break;
      case 'configure':
        this.state.settings = { ...this.state.settings, ...event.settings };
        this.log('info', `settings updated: ${Object.keys(event.settings).join(', ') || 'none'}`);
        break;
    }
    this.feed(event.at);
    this.settle(event.at);
    // one pass of schedule may leave runners free that a second pass would use (a confirmation
    // goes out, then probes beside it): repeat until nothing more goes out, so a step ends at rest
    for (let pass = 0, before = -1; pass < 8 && before !== this.effects.length; pass++) {
      before = this.effects.length;
      this.schedule(event.at);
    }
    this.prune();
  }

  // ---------------------------------------------------------------- ordering

  /**
   * Adds the changes of a push (or a merge event) to their stream, in history order.
   * Known changes are ignored; a push whose base has not been seen yet is held until the gap
   * fills or `gapTimeoutMs` passes; a force-push or a push from an older base rewrites history:
   * the stream's untested changes are skipped with a notice and the new history is taken.
   */
  merge(
    ref: StreamRef,
    changes: ChangeInput[],
    at: number,
    before: string | null,
    after: string | null,
    forced: boolean,
  ): void {
    const stream = this.ensureStream(ref);
    const isKnown = (c: ChangeInput) => this.isKnownId(c.id) || stream.shas.includes(c.sha);
    const firstFresh = changes.findIndex((c) => !isKnown(c));
    if (forced) {
      this.rewriteHistory(stream, at, `force-push to ${stream.branch} (${short(before)} -> ${short(after)})`);
      this.append(
        stream,
        changes.filter((c) => !isKnown(c)),
        at,
      );
      stream.tip = after ?? changes.at(-1)?.sha ?? stream.tip;
      return;
    }
    if (firstFresh < 0) {
      this.log('debug', `duplicate push to ${stream.id} ignored (${changes.length} known changes)`);
      return;
    }
    const fresh = changes.slice(firstFresh).filter((c) => !isKnown(c));
    const anchor = firstFresh > 0 ? changes[firstFresh - 1]!.sha : (fresh[0]!.parent ?? before);
    if (anchor === null || anchor === undefined || stream.tip === null || anchor === stream.tip) {
      this.append(stream, fresh, at);
      stream.tip = after ?? fresh.at(-1)!.sha;
      this.drainEarly(stream, at);
    } else if (stream.shas.includes(anchor)) {
      this.rewriteHistory(
        stream,
        at,
        `${stream.branch} moved back to ${short(anchor)} and on to ${short(after ?? fresh.at(-1)!.sha)}`,
      );
      this.append(stream, fresh, at);
      stream.tip = after ?? fresh.at(-1)!.sha;
    } else {
      stream.early.push({ before: anchor, after, changes: fresh, at, deadline: at + this.state.settings.gapTimeoutMs });
      this.log('info', `push to ${stream.id} on ${short(anchor)} arrived before that commit; held until the gap fills`);
    }
  }

  /** Applies held pushes that now fit on the stream's tip. */
  private drainEarly(stream: StreamState, at: number): void {
    for (;;) {
      const i = stream.early.findIndex((e) => e.before === stream.tip);
      if (i < 0) return;
      const [e] = stream.early.splice(i, 1);
      const fresh = e!.changes.filter((c) => !this.isKnownId(c.id) && !stream.shas.includes(c.sha));
      this.append(stream, fresh, at);
      stream.tip = e!.after ?? fresh.at(-1)?.sha ?? stream.tip;
    }
  }

  /** Skips every change of the stream that has no verdict yet, because the branch no longer holds it. */
  private rewriteHistory(stream: StreamState, at: number, what: string): void {
    const open = Object.values(this.state.changes)
      .filter((c) => c.stream === stream.id && c.state !== 'done')
      .sort((a, b) => a.seq - b.seq);
    this.notice(
      'warn',
      'history-rewritten',
      `${what}: ${open.length} untested change(s) of ${stream.id} skipped; testing goes on from the new tip`,
    );
    this.supersedeLine(MAIN, at, 'history rewritten');
    this.supersedeLine(stream.id, at, 'history rewritten');
    for (const c of open) this.verdict(c.id, 'skipped', at, { reason: 'history rewritten by a force-push' });
    stream.broken = null;
    stream.early = [];
  }

  private append(stream: StreamState, changes: ChangeInput[], at: number): void {
    for (const input of changes) {
      if (input.id === '__proto__' || !input.id) {
        this.log('warn', `change with unusable id ${JSON.stringify(input.id)} ignored`);
        continue;
      }
      const record: ChangeRecord = {
        ...input,
        host: stream.host,
        project: stream.project,
        branch: stream.branch,
        stream: stream.id,
        seq: ++this.state.seq,
        state: 'queued',
        enqueuedAt: at,
      };
      this.state.changes[input.id] = record;
      stream.shas.push(input.sha);
      if (stream.good === null && input.parent) stream.good = input.parent;
      if (input.skipReason) {
        this.verdict(input.id, 'skipped', at, { reason: input.skipReason });
        continue;
      }
      stream.pending.push(input.id);
    }
    if (stream.shas.length > SHA_MEMORY) stream.shas.splice(0, stream.shas.length - SHA_MEMORY);
  }

  /** True for a change the queue has, or had and forgot after its verdict. */
  private isKnownId(id: string): boolean {
    return own(this.state.changes, id) !== undefined || this.state.forgotten.includes(id);
  }

  private ensureStream(ref: StreamRef): StreamState {
    const id = streamId(ref);
    let s = this.state.streams[id];
    if (!s) {
      s = {
        id,
        host: ref.host,
        project: ref.project,
        branch: ref.branch,
        tip: null,
        good: null,
        pending: [],
        broken: null,
        early: [],
        shas: [],
      };
      this.state.streams[id] = s;
    }
    return s;
  }

  // ---------------------------------------------------------------- dependencies

  /**
   * Moves the head of each stream's pending list into a line (the main line, or the fix line of a
   * broken stream) once its dependencies are in a line or done. A dependency loop, or a dependency
   * still missing after `dependencyTimeoutMs`, lets it go anyway, with a notice.
   */
  feed(at: number): void {
    let moved = true;
    while (moved) {
      moved = false;
      for (const stream of Object.values(this.state.streams)) {
        while (stream.pending.length > 0) {
          const head = this.state.changes[stream.pending[0]!]!;
          const unmet = firstUnmetDependency(this.state, head);
          // Waiting ends when the dependency is ahead, when waiting would never end (a loop), or at
          // the deadline. The change is merged: rejecting it would not take its code out of the
          // branch, and the next change tested would take the blame for it. So it is tested in
          // history order like any other, with a notice saying what it is tested without.
          const loop = unmet !== null && isDependencyLoop(this.state, head.id);
          const late = unmet !== null && !loop && at - head.enqueuedAt >= this.state.settings.dependencyTimeoutMs;
          if (unmet !== null && !loop && !late) {
            head.state = 'waiting';
            break;
          }
          if (loop)
            this.notice(
              'warn',
              'dependency-loop',
              `${head.id} and ${unmet} depend on each other (or wait on each other's streams); ${head.id} is tested in history order, without ${unmet}`,
              head.id,
            );
          if (late)
            this.notice(
              'warn',
              'dependency-timeout',
              `${unmet}, which ${head.id} depends on, did not arrive in time; ${head.id} is tested without it`,
              head.id,
            );
          stream.pending.shift();
          head.state = 'queued';
          // a change that depends on a culprit of another stream goes with it, and its stream is broken
          // from here on (in the culprit's own stream it is simply one of the changes after the culprit)
          const culpritDep = (head.dependsOn ?? []).find((d) => {
            const dep = own(this.state.changes, d);
            return dep?.verdict === 'culprit' && dep.stream !== head.stream;
          });
          if (culpritDep) {
            stream.broken ??= { culprit: culpritDep, since: at, line: [] };
            this.verdict(head.id, 'blocked', at, { culprit: culpritDep, reason: `depends on ${culpritDep}` });
          } else if (!stream.broken) this.state.active.push(head.id);
          else if (this.blockAtOnce(stream, head))
            this.verdict(head.id, 'blocked', at, {
              culprit: stream.broken.culprit,
              reason: `contains ${stream.broken.culprit} and does not revert it`,
            });
          else stream.broken.line.push(head.id);
          moved = true;
        }
      }
    }
  }

  /**
   * True when `change` reverts the culprit of its broken stream, or a change blocked by it (a culprit
   * masked by the first one is reverted the same way).
   */
  private revertsCulprit(stream: StreamState, change: ChangeRecord): boolean {
    const culprit = stream.broken?.culprit;
    if (!culprit || !change.reverts?.length) return false;
    const broken = (c: ChangeRecord | undefined) =>
      !!c && c.stream === stream.id && (c.id === culprit || c.culprit === culprit);
    return change.reverts.some(
      (r) =>
        broken(own(this.state.changes, r)) || Object.values(this.state.changes).some((c) => c.sha === r && broken(c)),
    );
  }

  /**
   * With `awaitRevert`, a change joining a broken stream is blocked at once when it does not revert
   * the culprit and no untested revert is ahead of it: it contains the culprit and nothing undoes it.
   */
  private blockAtOnce(stream: StreamState, change: ChangeRecord): boolean {
    if (!this.state.settings.awaitRevert || !stream.broken) return false;
    if (this.revertsCulprit(stream, change)) return false;
    return !stream.broken.line.some((id) => this.revertsCulprit(stream, this.state.changes[id]!));
  }

  // ---------------------------------------------------------------- results

  /**
   * Marks a dispatched run as running and records its CI URL. An unknown key is logged and ignored.
   * A run that already ended (superseded while its dispatch was under way) keeps its state, but still
   * gets the URL and CI run id it had none of, so the dashboard can link the cancelled CI run.
   */
  runStarted(key: string, at: number, url?: string | null, ciRunId?: string | number | null): void {
    const run = own(this.state.runs, key);
    if (!run || !isInFlight(run)) {
      this.log('info', `start of run ${key} ignored: ${run ? `it is ${run.state}` : 'unknown key'}`);
      if (run && url && !run.url) run.url = url;
      if (run && ciRunId !== undefined && ciRunId !== null && run.ciRunId === undefined) run.ciRunId = ciRunId;
      return;
    }
    run.state = 'running';
    run.startedAt = at;
    if (url) run.url = url;
    if (ciRunId !== undefined && ciRunId !== null) run.ciRunId = ciRunId;
  }

  /**
   * Records a run's result. Success and failure feed the search; error and cancelled are infra
   * errors, retried up to `retries` times and then pausing the queue. A result for an unknown,
   * finished or superseded key changes nothing and is logged.
   */
  runFinished(
    key: string,
    status: 'success' | 'failure' | 'error' | 'cancelled',
    at: number,
    url?: string | null,
  ): void {
    const run = own(this.state.runs, key);
    if (!run || !isInFlight(run)) {
      const why = !run ? 'unknown key' : run.superseded ? 'superseded' : `already ${run.state}`;
      this.log('info', `stale result ${status} for run ${key} ignored (${why})`);
      return;
    }
    if (url) run.url = url;
    if (status === 'error' || status === 'cancelled') {
      this.infraFailure(run, status === 'error' ? 'error' : 'cancelled', at);
      return;
    }
    run.finishedAt = at;
    run.state = status === 'success' ? 'passed' : 'failed';
    this.state.stats.runsFinished += 1;
    if (run.state === 'failed') this.state.stats.runsFailed += 1;
    if (run.kind === 'check') {
      this.finishCheck(run, at);
    } else if (run.line === MAIN) {
      if (run.state === 'passed') this.passMain(run, at);
      else this.supersedeAbove(MAIN, run.end, at, `prefix up to ${run.end} failed`, this.speculating());
    } else if (run.state === 'failed') this.failFixLine(run, at);
    else this.supersedeAbove(run.line, run.end, at, `prefix up to ${run.end} passed`);
  }

  /**
   * The periodic check of a broken stream's tip: a pass means the stream was fixed by a change that
   * did not revert the culprit (already blocked); the stream is whole again from that tip.
   */
  private finishCheck(run: Run, at: number): void {
    const stream = own(this.state.streams, run.line);
    if (!stream?.broken || run.state !== 'passed') return;
    const culprit = stream.broken.culprit;
    this.supersedeLine(stream.id, at, `${stream.id} passes again`);
    stream.good = run.refs[stream.project] ?? stream.good;
    stream.goodRun = run.key;
    // changes merged after the checked tip were blocked at once on the belief that the culprit was
    // still in: that belief is gone, so they are reopened and tested like any change
    const checkedSeq =
      Object.values(this.state.changes).find((c) => c.stream === stream.id && c.sha === stream.good)?.seq ?? Infinity;
    const blockedUntested = (c: ChangeRecord) => {
      const v = this.latestVerdict(c.id);
      return v?.verdict === 'blocked' && v.run === undefined;
    };
    const reopened = Object.values(this.state.changes).filter(
      (c) =>
        c.stream === stream.id &&
        c.seq > checkedSeq &&
        c.state === 'done' &&
        c.culprit === culprit &&
        blockedUntested(c),
    );
    reopened.forEach((c) => this.retract(c));
    const rest = [...reopened.map((c) => c.id), ...stream.broken.line].sort(
      (a, b) => this.state.changes[a]!.seq - this.state.changes[b]!.seq,
    );
    stream.broken = null;
    this.state.active.push(...rest);
    const again = reopened.length
      ? `; ${reopened.length} change(s) merged during the check are reopened and tested`
      : '';
    this.notice(
      'info',
      'stream-fixed',
      `${stream.id} passes again at ${short(stream.good)}: a change that does not revert ${culprit} fixed it${again}`,
      culprit,
    );
  }

  /** A passing main-line prefix: its changes pass, the good base moves up, and failures below it were flakes. */
  private passMain(run: Run, at: number): void {
    const view = viewLine(this.state, MAIN);
    const end = view.changes.indexOf(run.end);
    const covered = view.changes.slice(0, end + 1);
    for (const r of liveRuns(this.state, MAIN)) {
      if (r === run || !covered.includes(r.end)) continue;
      if (r.state === 'failed') this.markFlake(r);
      else if (isInFlight(r)) this.supersede(r, at, `prefix up to ${run.end} passed`);
    }
    for (const stream of Object.values(this.state.streams)) {
      const sha = run.refs[stream.project];
      if (
        sha &&
        !stream.broken &&
        (covered.some((id) => this.state.changes[id]?.stream === stream.id) || !stream.good)
      ) {
        stream.good = sha;
        stream.goodRun = run.key;
      }
    }
    for (const id of covered) this.verdict(id, 'passed', at, { run: run.key });
  }

  /** A failing fix-line prefix: its changes still contain the culprit and are blocked by it. */
  private failFixLine(run: Run, at: number): void {
    const stream = this.state.streams[run.line];
    if (!stream?.broken) return;
    const view = viewLine(this.state, run.line);
    const end = view.changes.indexOf(run.end);
    const lowestPass = view.bounds.findIndex((n) => n > 0);
    if (lowestPass >= 0 && lowestPass < end) {
      this.log(
        'info',
        `run ${run.key} failed above a passing prefix of ${stream.id}; the changes after the fix are tested again`,
      );
      return;
    }
    // A run below still going may show the fix, with a new culprit after it making this prefix fail:
    // the lower result decides first (if it fails too, the changes above it are tested again).
    const below = view.inFlightRuns.find(
      (r) => r !== run && view.changes.indexOf(r.end) >= 0 && view.changes.indexOf(r.end) < end,
    );
    if (below) {
      this.log(
        'info',
        `run ${run.key} failed on ${stream.id}'s fix line; waiting for run ${below.key} below it, which may show the fix`,
      );
      return;
    }
    const covered = view.changes.slice(0, end + 1);
    const culprit = stream.broken.culprit;
    const revert = this.state.settings.revertAware
      ? covered.find((id) => this.revertsCulprit(stream, this.state.changes[id]!))
      : undefined;
    const confirmedAfter = this.failuresToBlockRevert();
    if (revert && revert !== run.end) {
      // The revert may well have fixed the stream and a later change broken it again: test the revert
      // alone. A failure of the revert and one of this prefix above it are two failures that both
      // contain the revert: enough to block.
      if (!liveRuns(this.state, run.line).some((r) => r.end === revert && r.state === 'failed')) {
        this.createRunAt(view, view.changes.indexOf(revert), 'probe', at);
        this.log(
          'info',
          `run ${run.key} failed after ${revert}, which reverts the culprit ${culprit}; testing the revert alone`,
        );
        return;
      }
    } else if (revert) {
      const failures = liveRuns(this.state, run.line).filter((r) => r.state === 'failed' && r.end === run.end).length;
      if (failures < confirmedAfter) {
        this.log(
          'info',
          `run ${run.key} failed on top of ${revert}, which reverts the culprit ${culprit}; re-running before blocking`,
        );
        return;
      }
    }
    for (const r of liveRuns(this.state, run.line)) {
      if (r !== run && covered.includes(r.end) && isInFlight(r))
        this.supersede(r, at, `prefix up to ${run.end} failed`);
    }
    if (revert === run.end) {
      // the culprit is undone and the tests still fail: a change merged while it was unfixed breaks them too
      this.notice(
        'warn',
        'revert-still-fails',
        `${revert} reverts ${culprit} but still fails: a change merged between them breaks the tests too; reverting it is tested like a revert of ${culprit}`,
        revert,
      );
    }
    const reverted = revert ? covered.indexOf(revert) : -1;
    covered.forEach((id, i) => {
      const reason =
        reverted >= 0 && i >= reverted
          ? `${revert} reverts ${culprit}, yet the tests still fail: another change merged while ${culprit} was unfixed breaks them (masked by ${culprit})`
          : undefined;
      this.verdict(id, 'blocked', at, { culprit, run: run.key, ...(reason ? { reason } : {}) });
    });
  }

  private markFlake(run: Run): void {
    if (run.flake) return;
    run.flake = true;
    this.state.stats.flakes += 1;
    this.log('info', `run ${run.key} failed but a later prefix passed: recorded as a flake`);
  }

  /** Retries a run that could not produce a result, or pauses the queue once retries are used up. */
  private infraFailure(run: Run, state: RunState, at: number): void {
    run.state = state;
    run.finishedAt = at;
    if (run.attempt <= this.state.settings.retries && !this.state.paused) {
      this.state.stats.infraRetries += 1;
      const retry = this.createRun(run.line, run.end, run.kind, at, run.attempt + 1, run.changes, run.refs);
      this.notice(
        'warn',
        'infra-retry',
        `run ${run.key} ended ${state} (attempt ${run.attempt}); retrying as ${retry.key}`,
      );
      return;
    }
    if (!this.state.paused) {
      this.state.paused = {
        reason: `run ${run.key} ended ${state} after ${run.attempt} attempt(s); nothing was blamed`,
        by: null,
        at,
      };
      this.notice(
        'error',
        'queue-paused',
        `queue ${this.state.name} paused: ${this.state.paused.reason}. Fix the CI, then /ost resume or /ost retry.`,
      );
    }
  }

  /** Expires runs past `ci.timeout`, held pushes past the gap timeout, and checks dependency deadlines. */
  tick(at: number): void {
    for (const run of Object.values(this.state.runs)) {
      if (isInFlight(run) && run.deadline <= at) {
        this.effects.push({ type: 'cancel', key: run.key, reason: 'timed out' });
        this.infraFailure(run, 'timed-out', at);
      }
    }
    for (const stream of Object.values(this.state.streams)) {
      const expired = stream.early.filter((e) => e.deadline <= at);
      if (expired.length === 0) continue;
      stream.early = stream.early.filter((e) => e.deadline > at);
      for (const e of expired) {
        this.notice(
          'warn',
          'history-gap',
          `${stream.id}: the push before ${short(e.before)} never arrived; ${e.changes.length} change(s) appended in arrival order`,
        );
        const fresh = e.changes.filter((c) => !this.isKnownId(c.id) && !stream.shas.includes(c.sha));
        this.append(stream, fresh, at);
        stream.tip = e.after ?? fresh.at(-1)?.sha ?? stream.tip;
      }
      this.drainEarly(stream, at);
    }
  }

  // ---------------------------------------------------------------- verdicts

  /** Blames and fixes until nothing more can be decided from the results at hand. */
  settle(at: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const main = viewLine(this.state, MAIN);
      if ((main.bounds[0] ?? 0) > 0) {
        const blame = this.strategy().decide(searchView(this.state, main, 0, this.state.settings.confirm));
        if (blame) {
          this.blame(main.changes[0]!, blame.confidence, at);
          continue;
        }
      }
      const fixed = Object.values(this.state.streams).find(
        (s) => s.broken && (viewLine(this.state, s.id).bounds[0] ?? 0) > 0,
      );
      if (fixed) {
        this.fix(fixed, at);
        this.feed(at);
        continue;
      }
      return;
    }
  }

  /**
   * Gives `culprit` to the first change of the main line. Its stream becomes broken: its later
   * changes in the line are blocked, and so are changes of other streams that depend on it. Every
   * main-line result is superseded, since those prefixes contained the culprit.
   */
  private blame(id: string, confidence: number, at: number): void {
    const change = this.state.changes[id]!;
    const stream = this.state.streams[change.stream]!;
    const live = liveRuns(this.state, MAIN);
    const evidence: Evidence[] = [];
    const good = stream.goodRun ? this.state.runs[stream.goodRun] : undefined;
    if (good) evidence.push({ key: good.key, end: good.end, result: 'passed', url: good.url ?? null });
    for (const r of live)
      if (r.state === 'failed') evidence.push({ key: r.key, end: r.end, result: 'failed', url: r.url ?? null });
    const decisive = live.find((r) => r.state === 'failed' && r.end === id);
    this.supersedeLine(MAIN, at, `${id} is the culprit`);
    this.state.stats.culprits += 1;
    const blocked = this.breakStream(stream, id, id, at);
    // dependents already in a line go now; those still pending go when their stream reaches them (feed)
    const dependents = Object.values(this.state.changes)
      .filter(
        (c) =>
          c.state !== 'done' &&
          c.stream !== stream.id &&
          (c.dependsOn ?? []).includes(id) &&
          (this.state.active.includes(c.id) || c.state === 'waiting'),
      )
      .sort((a, b) => a.seq - b.seq);
    for (const d of dependents) {
      if (d.state === 'done') continue;
      blocked.push(...this.breakStream(this.state.streams[d.stream]!, d.id, id, at));
    }
    this.verdict(id, 'culprit', at, { culprit: id, confidence, run: decisive?.key, evidence, blocked });
    for (const b of blocked) this.verdict(b, 'blocked', at, { culprit: id, reason: `contains ${id}` });
    this.notice(
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
  private breakStream(stream: StreamState, from: string, culprit: string, at: number): string[] {
    const start = this.state.changes[from]!;
    if (!stream.broken) stream.broken = { culprit, since: at, line: [] };
    let held = this.state.active.filter((cid) => {
      const c = this.state.changes[cid]!;
      return c.stream === stream.id && c.seq >= start.seq;
    });
    this.state.active = this.state.active.filter((cid) => !held.includes(cid));
    // a revert of the culprit merged before the verdict, and what follows it, may pass: they go to
    // the fix line to be tested instead of being blocked
    const revertAt = this.state.settings.revertAware
      ? held.findIndex((cid) => this.revertsCulprit(stream, this.state.changes[cid]!))
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

  /**
   * The first change of a broken stream's fix line passed: it gets `fixed`, the changes up to the
   * highest passing prefix get `passed`, the stream is whole again and the rest rejoins the main line.
   */
  private fix(stream: StreamState, at: number): void {
    const broken = stream.broken!;
    const view = viewLine(this.state, stream.id);
    let highest = 0;
    view.bounds.forEach((n, i) => {
      if (n > 0) highest = i;
    });
    const passRun = liveRuns(this.state, stream.id).find(
      (r) => r.state === 'passed' && r.end === view.changes[highest],
    );
    const first = liveRuns(this.state, stream.id).find((r) => r.state === 'passed' && r.end === view.changes[0]);
    this.supersedeLine(stream.id, at, `${stream.id} is fixed`);
    const passed = view.changes.slice(0, highest + 1);
    const rest = view.changes.slice(highest + 1);
    stream.broken = null;
    stream.good = this.state.changes[passed.at(-1)!]!.sha;
    stream.goodRun = passRun?.key ?? null;
    this.verdict(passed[0]!, 'fixed', at, { culprit: broken.culprit, run: first?.key });
    for (const id of passed.slice(1)) this.verdict(id, 'passed', at, { run: passRun?.key });
    this.state.active.push(...rest);
    this.notice('info', 'stream-fixed', `${stream.id} passes again: ${passed[0]} fixed ${broken.culprit}`, passed[0]);
  }

  /** Records a final verdict, removes the change from every line and emits a report effect. */
  private verdict(id: string, kind: VerdictKind, at: number, extra: Partial<VerdictRecord> = {}): void {
    const change = own(this.state.changes, id);
    if (!change) return;
    change.state = 'done';
    change.verdict = kind;
    if (extra.culprit && kind !== 'culprit') change.culprit = extra.culprit;
    else delete change.culprit;
    const stream = this.state.streams[change.stream];
    this.state.active = this.state.active.filter((c) => c !== id);
    if (stream) {
      stream.pending = stream.pending.filter((c) => c !== id);
      if (stream.broken) stream.broken.line = stream.broken.line.filter((c) => c !== id);
    }
    const record: VerdictRecord = { change: id, verdict: kind, at, ...stripUndefined(extra) };
    this.state.verdicts.push(record);
    this.state.stats.verdicts += 1;
    this.effects.push({ type: 'report', change: id, verdict: record });
  }

  // ---------------------------------------------------------------- scheduling

  /** Whether runs over new changes go on while a failure is searched (and are kept when one is found). */
  private speculating(): boolean {
    return this.state.settings.speculate || !!this.strategy().batchWhileSearching;
  }

  private strategy(): Strategy {
    return this.strategies[this.state.settings.strategy] ?? bisect;
  }

  /**
   * Dispatches runs while runners are free: first the search for a culprit in the main line, then
   * the broken streams' fix lines, then a batch of the main line's untested changes.
   */
  schedule(at: number): void {
    if (this.state.paused) return;
    const settings = this.state.settings;
    let free = settings.maxParallel - Object.values(this.state.runs).filter(isInFlight).length;
    if (free <= 0) return;
    const main = viewLine(this.state, MAIN);
    const searching = main.bounds.some((n) => n > 0);
    // Search rounds are synchronous: new probes go out once every probe of the round is back,
    // so that they split what is left evenly (k-ary search) instead of a half-known range.
    const probing = (view: LineView) => view.inFlightRuns.some((r) => r.kind === 'probe');
    if (searching && !probing(main)) {
      // search runs (probes and re-runs that confirm a failure) are limited to `searchWidth` at once;
      // confirmations of the first change may use every free runner
      const confirming = (main.bounds[0] ?? 0) > 0;
      const width =
        settings.searchWidth > 0 && !confirming
          ? Math.min(
              free,
              Math.max(
                0,
                settings.searchWidth -
                  main.inFlightRuns.filter((r) => r.kind === 'probe' || r.kind === 'confirm').length,
              ),
            )
          : free;
      const sv = searchView(this.state, main, width, settings.confirm);
      let positions = this.strategy().plan(sv);
      if (positions.length === 0 && main.inFlightRuns.length === 0) positions = bisect.plan(sv);
      free -= this.dispatchAt(main, positions, at);
    }
    for (const stream of Object.values(this.state.streams)) {
      if (free <= 0) break;
      if (this.dispatchCheck(stream, at)) free -= 1;
    }
    const broken = Object.values(this.state.streams)
      .filter((s) => s.broken && s.broken.line.length > 0)
      .sort((a, b) => a.broken!.since - b.broken!.since);
    for (const stream of broken) {
      if (free <= 0) return;
      const view = viewLine(this.state, stream.id);
      if (view.bounds.some((n) => n > 0)) {
        if (probing(view)) continue;
        const sv = searchView(this.state, view, free, 0);
        free -= this.dispatchAt(view, bisect.plan(sv), at);
      } else free -= this.dispatchBatches(view, free, at);
    }
    if ((!searching || this.speculating()) && free > 0) this.dispatchBatches(viewLine(this.state, MAIN), free, at);
  }

  /**
   * With `awaitRevert`, checks the tip of a broken stream with nothing left to test once every
   * `recheckMs`, in case it was fixed without a revert. A tip that failed its check as often as a
   * revert must fail to be blocked is not checked again until a new change moves it: a pass is
   * reliable, and failing again and again over a quiet weekend would only spend runners.
   * Returns whether a run went out.
   */
  private dispatchCheck(stream: StreamState, at: number): boolean {
    const broken = stream.broken;
    // changes still waiting for a dependency are older than the tip and not in a line yet: a passing
    // tip would mark them good before they are tested, so no check until they are in
    if (
      !broken ||
      !this.state.settings.awaitRevert ||
      broken.line.length > 0 ||
      stream.pending.length > 0 ||
      !stream.tip
    )
      return false;
    if (at - (broken.checkedAt ?? broken.since) < this.state.settings.recheckMs) return false;
    if (this.checking(stream)) return false;
    const failedChecks = Object.values(this.state.runs).filter(
      (r) => r.kind === 'check' && r.line === stream.id && r.end === stream.tip && r.state === 'failed',
    ).length;
    if (failedChecks >= this.failuresToBlockRevert()) return false;
    broken.checkedAt = at;
    const refs = this.refsFor([]);
    refs[stream.project] = stream.tip;
    this.createRun(stream.id, stream.tip, 'check', at, 1, [], refs);
    return true;
  }

  /**
   * How often a revert of the culprit (or a tip check) must fail before the stream counts as still
   * broken there: a failing revert is more likely a flake than a second breakage.
   */
  private failuresToBlockRevert(): number {
    return 1 + Math.max(1, this.state.settings.confirm);
  }

  /** Whether a tip check of `stream` is in flight. */
  private checking(stream: StreamState): boolean {
    return Object.values(this.state.runs).some((r) => r.kind === 'check' && r.line === stream.id && isInFlight(r));
  }

  /** Dispatches runs over the untested tail of a line, each up to `batchMaxSize` changes. Returns how many. */
  private dispatchBatches(
    view: LineView,
    free: number,
    at: number,
    maxSize = this.state.settings.batchMaxSize,
  ): number {
    const { batchMaxInFlight } = this.state.settings;
    let covered = -1;
    view.inFlight.forEach((n, i) => {
      if (n > 0 || (view.bounds[i] ?? 0) > 0) covered = i;
    });
    let batches = view.inFlightRuns.filter((r) => r.kind === 'batch').length;
    let sent = 0;
    while (sent < free && covered < view.changes.length - 1 && (batchMaxInFlight <= 0 || batches < batchMaxInFlight)) {
      const end = Math.min(covered + Math.max(1, maxSize), view.changes.length - 1);
      this.createRunAt(view, end, 'batch', at);
      covered = end;
      batches += 1;
      sent += 1;
    }
    return sent;
  }

  private dispatchAt(view: LineView, positions: number[], at: number): number {
    for (const pos of positions) this.createRunAt(view, pos, (view.bounds[pos] ?? 0) > 0 ? 'confirm' : 'probe', at);
    return positions.length;
  }

  private createRunAt(view: LineView, pos: number, kind: RunKind, at: number): Run {
    const changes = view.changes.slice(0, pos + 1);
    return this.createRun(view.line, changes.at(-1)!, kind, at, 1, changes, this.refsFor(changes));
  }

  /** project -> sha for a prefix: every stream at its good sha, moved up by the prefix's changes. */
  private refsFor(changes: string[]): Record<string, string> {
    const refs: Record<string, string> = {};
    for (const s of Object.values(this.state.streams)) if (s.good) refs[s.project] = s.good;
    for (const id of changes) {
      const c = this.state.changes[id]!;
      refs[c.project] = c.sha;
    }
    return refs;
  }

  private createRun(
    line: string,
    end: string,
    kind: RunKind,
    at: number,
    attempt: number,
    changes: string[],
    refs: Record<string, string>,
  ): Run {
    const key = `${this.state.keyPrefix}.${++this.state.seq}`;
    const run: Run = {
      key,
      line,
      kind,
      end,
      changes: [...changes],
      refs: { ...refs },
      state: 'dispatched',
      attempt,
      createdAt: at,
      deadline: at + this.state.settings.timeoutMs,
    };
    this.state.runs[key] = run;
    this.effects.push({
      type: 'dispatch',
      run: { key, refs: run.refs, changes: run.changes, attempt, kind, line, end },
    });
    return run;
  }

  private supersede(run: Run, at: number, why: string): void {
    run.superseded = true;
    if (isInFlight(run)) {
      run.state = 'cancelled';
      run.finishedAt = at;
      this.effects.push({ type: 'cancel', key: run.key, reason: why });
    }
  }

  private supersedeLine(line: string, at: number, why: string): void {
    for (const r of liveRuns(this.state, line))
      if (isInFlight(r) || r.state === 'failed' || r.state === 'passed') this.supersede(r, at, why);
  }

  /**
   * Cancels runs of `line` in flight whose prefix ends after `end`: their result is no longer
   * needed. With `keepBatches`, runs over new changes stay: if one passes, the failure was a flake.
   */
  private supersedeAbove(line: string, end: string, at: number, why: string, keepBatches = false): void {
    const changes = viewLine(this.state, line).changes;
    const pos = changes.indexOf(end);
    for (const r of liveRuns(this.state, line)) {
      if (keepBatches && r.kind === 'batch') continue;
      if (isInFlight(r) && changes.indexOf(r.end) > pos) this.supersede(r, at, why);
    }
  }

  // ---------------------------------------------------------------- commands

  /** Applies a command whose permission the caller has already checked, and replies. */
  command(event: Extract<CoreEvent, { type: 'command' }>): void {
    const { verb, change: id, at, user } = event;
    const reply = (ok: boolean, message: string): void => {
      this.effects.push({ type: 'reply', to: event.replyTo ?? null, change: id, ok, message });
    };
    const change = own(this.state.changes, id);
    switch (verb) {
      case 'pause':
        if (this.state.paused)
          return reply(false, `queue ${this.state.name} is already paused: ${this.state.paused.reason}`);
        this.state.paused = { reason: `paused by ${user}`, by: user, at };
        this.notice('warn', 'queue-paused', `queue ${this.state.name} paused by ${user}`);
        return reply(true, `queue ${this.state.name} paused; runs in flight finish, nothing new is dispatched`);
      case 'resume':
        if (!this.state.paused) return reply(false, `queue ${this.state.name} is not paused`);
        this.state.paused = null;
        this.notice('info', 'queue-resumed', `queue ${this.state.name} resumed by ${user}`);
        return reply(true, `queue ${this.state.name} resumed`);
      case 'enqueue': {
        if (change || this.isKnownId(id))
          return reply(
            false,
            `${id} is already in queue ${this.state.name} (${change?.verdict ?? change?.state ?? 'done'})`,
          );
        if (!event.input) return reply(false, `${id} is not known to the host as a merged change`);
        this.merge(event.input.stream, [event.input.change], at, null, null, false);
        return reply(true, `${id} added to queue ${this.state.name}`);
      }
      case 'dequeue': {
        if (!change) return reply(false, `${id} is not in queue ${this.state.name}`);
        if (change.state === 'done') return reply(false, `${id} already has its verdict: ${change.verdict}`);
        const line = this.state.streams[change.stream]?.broken?.line.includes(id) ? change.stream : MAIN;
        for (const r of liveRuns(this.state, line)) if (r.end === id) this.supersede(r, at, `${id} dequeued`);
        this.verdict(id, 'skipped', at, { reason: `dequeued by ${user}` });
        return reply(true, `${id} removed from queue ${this.state.name} untested`);
      }
      case 'not-culprit':
      case 'retry':
        return this.reopenOrRetry(event, reply);
    }
  }

  private reopenOrRetry(
    event: Extract<CoreEvent, { type: 'command' }>,
    reply: (ok: boolean, message: string) => void,
  ): void {
    const { verb, change: id, at, user } = event;
    const change = own(this.state.changes, id);
    if (!change) return reply(false, `${id} is not in queue ${this.state.name}`);
    if (verb === 'retry' && change.state !== 'done') {
      const last = Object.values(this.state.runs)
        .filter(
          (r) =>
            r.changes.includes(id) && ['failed', 'error', 'timed-out', 'cancelled'].includes(r.state) && !r.superseded,
        )
        .sort((a, b) => b.createdAt - a.createdAt)[0];
      const wasPaused = this.state.paused;
      this.state.paused = null;
      if (last && viewLine(this.state, last.line).changes.includes(last.end)) {
        const run = this.createRun(last.line, last.end, 'retry', at, 1, last.changes, last.refs);
        return reply(true, `re-running ${last.key} as ${run.key}${wasPaused ? '; queue resumed' : ''}`);
      }
      return reply(true, `${id} is ${change.state}; nothing failed to re-run${wasPaused ? '; queue resumed' : ''}`);
    }
    const culprit = change.verdict === 'culprit' ? id : change.verdict === 'blocked' ? change.culprit : undefined;
    if (verb === 'not-culprit' && change.verdict !== 'culprit')
      return reply(false, `${id} is not a culprit (${change.verdict ?? change.state})`);
    if (!culprit) return reply(false, `${id} has verdict ${change.verdict}; there is nothing to re-test`);
    const stream = this.state.streams[this.state.changes[culprit]!.stream]!;
    if (stream.broken?.culprit !== culprit) {
      if (verb === 'not-culprit') this.recordDisputed(culprit);
      return reply(
        false,
        `${stream.id} has been fixed since ${culprit} was blamed; the verdict stays${verb === 'not-culprit' ? ', and the dispute is recorded' : ''}`,
      );
    }
    const reopened = this.reopen(culprit, at, verb === 'not-culprit');
    return reply(
      true,
      `${culprit} reopened by ${user}: ${reopened} change(s) go back into queue ${this.state.name} to be tested again`,
    );
  }

  /** Withdraws a culprit verdict and the blocks it caused; the changes go back to their streams' pending lists. */
  private reopen(culprit: string, at: number, flake: boolean): number {
    const affected = Object.values(this.state.changes)
      .filter((c) => c.state === 'done' && (c.id === culprit || (c.verdict === 'blocked' && c.culprit === culprit)))
      .sort((a, b) => a.seq - b.seq);
    if (flake) this.recordDisputed(culprit);
    this.state.stats.culprits = Math.max(0, this.state.stats.culprits - 1);
    for (const stream of Object.values(this.state.streams)) {
      if (stream.broken?.culprit !== culprit) continue;
      this.supersedeLine(stream.id, at, `${culprit} reopened`);
      const ours = affected.filter((c) => c.stream === stream.id).map((c) => c.id);
      stream.pending = [...ours, ...stream.broken.line, ...stream.pending].sort(
        (a, b) => this.state.changes[a]!.seq - this.state.changes[b]!.seq,
      );
      stream.broken = null;
    }
    affected.forEach((c) => this.retract(c));
    this.notice(
      'info',
      'verdict-reopened',
      `${culprit} reopened; ${affected.length} change(s) will be tested again`,
      culprit,
    );
    return affected.length;
  }

  /** Takes back a change's verdict: the record stays in the history marked retracted, the change is queued again. */
  private retract(c: ChangeRecord): void {
    const v = this.latestVerdict(c.id);
    if (v) v.retracted = true;
    c.state = 'queued';
    delete c.verdict;
    delete c.culprit;
  }

  private recordDisputed(culprit: string): void {
    for (const r of Object.values(this.state.runs)) if (r.state === 'failed' && r.end === culprit) this.markFlake(r);
  }

  private latestVerdict(id: string): VerdictRecord | undefined {
    for (let i = this.state.verdicts.length - 1; i >= 0; i--)
      if (this.state.verdicts[i]!.change === id) return this.state.verdicts[i];
    return undefined;
  }

  // ---------------------------------------------------------------- housekeeping

  /** Keeps the state bounded: forgets the oldest finished changes and runs nothing refers to. */
  private prune(): void {
    const openCulprits = new Set(
      Object.values(this.state.streams).flatMap((st) => (st.broken ? [st.broken.culprit] : [])),
    );
    const done = Object.values(this.state.changes).filter((c) => {
      if (c.state !== 'done') return false;
      if (openCulprits.has(c.id)) return false; // kept so that `not-culprit` can reopen it and its blocks
      return !(c.verdict === 'blocked' && openCulprits.has(c.culprit ?? ''));
    });
    if (done.length > DONE_CHANGES_KEPT) {
      done.sort((a, b) => a.seq - b.seq);
      for (const c of done.slice(0, done.length - DONE_CHANGES_KEPT)) {
        delete this.state.changes[c.id];
        this.state.forgotten.push(c.id);
      }
      if (this.state.forgotten.length > FORGOTTEN_IDS_KEPT)
        this.state.forgotten.splice(0, this.state.forgotten.length - FORGOTTEN_IDS_KEPT);
    }
    const finished = Object.values(this.state.runs).filter((r) => !isInFlight(r));
    if (finished.length > FINISHED_RUNS_KEPT) {
      const needed = new Set<string>();
      for (const s of Object.values(this.state.streams)) if (s.goodRun) needed.add(s.goodRun);
      const removable = finished
        .filter(
          (r) =>
            !needed.has(r.key) &&
            (r.superseded || r.flake || r.changes.every((id) => this.state.changes[id]?.state !== 'queued')),
        )
        .sort((a, b) => a.createdAt - b.createdAt);
      for (const r of removable.slice(0, finished.length - FINISHED_RUNS_KEPT)) delete this.state.runs[r.key];
    }
  }

  private notice(level: 'info' | 'warn' | 'error', code: string, message: string, change?: string): void {
    this.effects.push(
      change ? { type: 'notice', level, code, message, change } : { type: 'notice', level, code, message },
    );
  }

  private log(level: 'debug' | 'info' | 'warn', message: string): void {
    this.effects.push({ type: 'log', level, message });
  }
}

function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 10) : '(none)';
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
