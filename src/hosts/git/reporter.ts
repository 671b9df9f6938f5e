// Verdicts of git-hosted changes: the log and the API always; with `notes: true` also a git note
// under refs/notes/ost-gate on the commit (the plain-text verdict message), pushed back to the
// watched repository.
import type { ChangeTarget, VerdictReport } from '../../report/model.ts';
import type { Reporter } from '../../engine/effects.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { toText } from '../../report/text.ts';
import { verdictDoc, verdictSummary } from '../../report/verdict.ts';
import type { GitWatcher } from './watcher.ts';

export const NOTES_REF = 'ost-gate';

export class GitReporter implements Reporter {
  constructor(
    private readonly watchers: GitWatcher[],
    private readonly log: Logger = silentLogger,
  ) {}

  private watcherFor(change: ChangeTarget | null): GitWatcher | undefined {
    if (!change) return undefined;
    return this.watchers.find((w) => w.repo.name === change.project && w.repo.branch === change.branch);
  }

  async report(report: VerdictReport, key: string): Promise<void> {
    const { verdict, target } = report;
    const line = verdictSummary(report.queue, report);
    this.log.info(
      { queue: report.queue, change: verdict.change, verdict: verdict.verdict, culprit: verdict.culprit },
      `${verdict.change}: ${line}`,
    );
    const watcher = this.watcherFor(target);
    if (!report.notify || !watcher?.repo.notes || !target) return;
    await watcher.mirror.appendNote(NOTES_REF, target.sha, `${toText(verdictDoc(report))}\n<!-- ${key} -->`);
    await watcher.mirror
      .pushNotes(NOTES_REF)
      .catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'could not push git notes; they stay in the mirror'),
      );
  }

  async reply(queue: string, _to: unknown, message: string): Promise<void> {
    this.log.info({ queue }, message);
  }

  async wasReported(key: string, change: ChangeTarget | null): Promise<boolean> {
    const watcher = this.watcherFor(change);
    if (!watcher?.repo.notes || !change) return false;
    return (await watcher.mirror.noteFor(NOTES_REF, change.sha)).includes(`<!-- ${key} -->`);
  }
}
