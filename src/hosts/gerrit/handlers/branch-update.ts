// ref-updated and change-merged: a branch moved (a submit, a push past review, a force-push). What
// the move landed is read from the REST API (landing.ts) and queued once per new tip, each commit as
// the change that carries it or as a direct push (landed-changes.ts). The branch's config is read
// again only when a move changed it (config-touch.ts) or does not follow the move it was read at.
import { streamId, type StreamRef } from '../../../core/index.ts';
import { BoundedMap, BoundedSet } from '../../../util/bounded.ts';
import { branchOf, changeNumber } from '../events.ts';
import { REPO_CONFIG_FILE } from '../../../config/repo.ts';
import type { Placement } from '../../common/repo-config.ts';
import { landingTouches } from '../config-touch.ts';
import { landedChanges } from '../landed-changes.ts';
import { isNullSha, LandingReader, type Landing } from '../landing.ts';
import { configError, HOST, notGated, placement, type GerritProjects } from '../project.ts';
import type { GerritEvent } from '../types.ts';

/** Branch updates remembered (old tips, updates queued). */
const UPDATES_KEPT = 5000;
/** First-parent commits of one branch update queued one by one; older ones are queued as one change. */
export const PUSH_LIMIT = 100;

/** A move of a branch to `to`: from `from` when known, by the submit of change `number` when it was one. */
interface Move {
  project: string;
  branch: string;
  to: string;
  from: string | null;
  number: number | null;
}

export class BranchUpdates {
  /** `<project>:<branch>:<newRev>` -> oldRev of ref-updated events, for the change-merged events that follow. */
  private readonly oldTips = new BoundedMap<string, string>(UPDATES_KEPT);
  /** `<project>:<branch>:<tip>` of the branch updates whose commits are queued. */
  private readonly landed = new BoundedSet<string>(UPDATES_KEPT);
  private readonly landings: LandingReader;
  /** `<project>:<branch>` -> where its changes went at tip `tip`, kept while later moves leave the config alone. */
  private readonly placements = new BoundedMap<string, { placed: Placement; tip: string }>(UPDATES_KEPT);

  constructor(private readonly projects: GerritProjects) {
    this.landings = new LandingReader(projects.client, projects.common.log);
  }

  /** ref-updated of a branch; other refs (patch sets, tags, meta refs) are ignored. */
  async refUpdated(e: GerritEvent): Promise<void> {
    const r = e.refUpdate;
    const branch = branchOf(r?.refName);
    if (!r?.project || !branch || !r.newRev) return;
    const { log } = this.projects.common;
    if (isNullSha(r.newRev))
      return log.info({ project: r.project, branch }, `branch ${branch} of ${r.project} was deleted`);
    if (!r.oldRev || isNullSha(r.oldRev))
      return log.info(
        { project: r.project, branch, tip: r.newRev },
        `branch ${branch} of ${r.project} was created; changes are queued from its next update`,
      );
    this.oldTips.set(`${r.project}:${branch}:${r.newRev}`, r.oldRev);
    await this.land({ project: r.project, branch, to: r.newRev, from: r.oldRev, number: null });
  }

  /** change-merged: the commits its submission landed (usually its ref-updated queued them already). */
  async merged(e: GerritEvent): Promise<void> {
    const c = e.change;
    const number = changeNumber(c?.number);
    const branch = branchOf(c?.branch) ?? c?.branch ?? null;
    const to = e.newRev ?? e.patchSet?.revision;
    if (!c || !number || !branch || !to) {
      this.projects.common.log.warn(
        { event: e.type },
        'change-merged without a change number, branch or revision ignored',
      );
      return;
    }
    const from = this.oldTips.get(`${c.project}:${branch}:${to}`) ?? null;
    await this.land({ project: c.project, branch, to, from, number });
  }

  /**
   * Queues what a move landed, once per new tip: its first-parent commits from the old tip (without
   * it, the queue's last sha, else the submission of the merged change).
   */
  private async land(move: Move): Promise<void> {
    const { project, branch, to } = move;
    const key = `${project}:${branch}:${to}`;
    if (this.landed.has(key)) return;
    // a bad config is told on the newest change that landed with it, once that is known
    const complaint: { text?: string } = {};
    const place = () => placement(this.projects, { project, branch }, async (text) => void (complaint.text = text));
    const kept = this.placements.get(`${project}:${branch}`);
    let placed = kept?.placed ?? (await place());
    if (!placed) return notGated(this.projects, { project, branch });
    const stream = { host: HOST, project, branch };
    const known = await this.streamShas(placed.queue, stream);
    if (known.shas.includes(to)) return;
    const landing = await this.read(move, known.tip);
    if (!landing) return;
    if (kept && (await this.configMoved(move, kept.tip, landing))) {
      // read again; what landed does not depend on the config unless the config moves the branch to another queue
      this.placements.delete(`${project}:${branch}`);
      const queue = placed.queue;
      placed = await place();
      if (!placed) return notGated(this.projects, { project, branch });
      if (placed.queue !== queue) return this.land(move);
    }
    this.placements.set(`${project}:${branch}`, { placed, tip: to });
    const changes = await landedChanges(
      { client: this.projects.client, log: this.projects.common.log, pushLimit: PUSH_LIMIT },
      project,
      placed.config,
      landing,
    );
    if (landing.cut) await this.tellCut(placed.queue, move, landing);
    await this.tellConfigError(move, complaint.text, changes);
    if (changes.length === 0) return;
    await this.projects.common.engine.submit(placed.queue, {
      type: 'merged',
      at: this.projects.common.now(),
      stream,
      before: landing.cut ? null : landing.base,
      after: to,
      ...(landing.rewritten ? { forced: true } : {}),
      changes,
    });
    this.landed.add(key);
  }

  /** Whether the config kept from tip `keptAt` may differ after this landing: it is not the next one, or touches the file. */
  private async configMoved(move: Move, keptAt: string, landing: Landing): Promise<boolean> {
    if (landing.base !== keptAt) return true;
    return landingTouches(
      { client: this.projects.client, log: this.projects.common.log },
      move.project,
      landing,
      REPO_CONFIG_FILE,
    );
  }

  /** The commits of the move, from its old tip, the queue's tip, or the merged change's submission. */
  private async read(move: Move, queueTip: string | null): Promise<Landing | null> {
    const { project, branch, to } = move;
    const from = move.from ?? queueTip;
    const submission =
      from === null && move.number ? await this.projects.client.change(project, move.number) : undefined;
    if (from === null && !submission) return null;
    const landing = await this.landings.read({ project, branch, to, from, submission, limit: PUSH_LIMIT });
    // a change-merged that comes after a newer submit's events: the queue's tip is past this one, so
    // from there it looks like a force-push; what it landed is its own submission, older history
    if (landing?.rewritten && move.from === null && queueTip !== null && move.number) {
      const own = await this.projects.client.change(project, move.number);
      return this.landings.read({ project, branch, to, from: null, submission: own, limit: PUSH_LIMIT });
    }
    return landing;
  }

  /** The newest sha the queue has of this stream (null for a stream it has not seen), and the shas it knows. */
  private async streamShas(queue: string, stream: StreamRef): Promise<{ tip: string | null; shas: readonly string[] }> {
    const file = await this.projects.common.engine.reads.queue(queue);
    const known = file?.state.streams[streamId(stream)];
    return { tip: known?.tip ?? null, shas: known?.shas ?? [] };
  }

  /** A bad config, told on the change that merged it, or the newest reviewed change of the update. */
  private async tellConfigError(move: Move, text: string | undefined, changes: { number?: number | null }[]) {
    const reviewed = move.number ?? [...changes].reverse().find((c) => c.number)?.number;
    if (!text || !reviewed) return;
    await configError(this.projects, { project: move.project, number: reviewed }, text).catch((err) =>
      this.projects.common.log.warn(
        { err: (err as Error).message },
        'could not post the config error on the code host',
      ),
    );
  }

  /** A push longer than PUSH_LIMIT: its older commits are queued as one change, and the queue says so. */
  private async tellCut(queue: string, move: Move, landing: Landing): Promise<void> {
    const { project, branch } = move;
    const message =
      `a push to ${branch} of ${project} landed more than ${PUSH_LIMIT} commits: the newest ${PUSH_LIMIT} are ` +
      `queued one by one, the ones before them as one change ending at ${landing.base?.slice(0, 10)}`;
    this.projects.common.log.warn({ project, branch }, message);
    await this.projects.common.engine.addNotice(queue, {
      at: this.projects.common.now(),
      level: 'warn',
      code: 'push-cut',
      message,
    });
  }
}
