// Verdicts of git-hosted changes: the log and the API always; with `notes: true` also a git note
// under refs/notes/ost-gate on the commit, pushed back to the watched repository.
import type { ChangeRecord, VerdictRecord } from '../../core/index.ts';
import type { Reporter } from '../../engine/effects.ts';
import { silentLogger, type Logger } from '../../log.ts';
import type { QueueFile } from '../../store/types.ts';
import type { GitWatcher } from './watcher.ts';

export const NOTES_REF = 'ost-gate';

export function verdictLine(queue: string, verdict: VerdictRecord): string {
  const extra = verdict.culprit && verdict.culprit !== verdict.change ? ` (culprit ${verdict.culprit})` : '';
  const conf = verdict.confidence !== undefined ? ` confidence ${verdict.confidence.toFixed(4)}` : '';
  return `ost-gate: ${verdict.verdict}${extra}${conf} in queue ${queue}`;
}

export class GitReporter implements Reporter {
  constructor(
    private readonly watchers: GitWatcher[],
    private readonly log: Logger = silentLogger,
  ) {}

  private watcherFor(change: ChangeRecord | undefined): GitWatcher | undefined {
    return change
      ? this.watchers.find((w) => w.repo.name === change.project && w.repo.branch === change.branch)
      : undefined;
  }

  async report(
    queue: string,
    change: ChangeRecord | undefined,
    verdict: VerdictRecord,
    key: string,
    _file: QueueFile,
    notify = true,
  ): Promise<void> {
    const line = verdictLine(queue, verdict);
    this.log.info(
      { queue, change: verdict.change, verdict: verdict.verdict, culprit: verdict.culprit },
      `${verdict.change}: ${line}`,
    );
    const watcher = this.watcherFor(change);
    if (!notify || !watcher?.repo.notes || !change) return;
    await watcher.mirror.appendNote(NOTES_REF, change.sha, `${line}\n<!-- ${key} -->`);
    await watcher.mirror
      .pushNotes(NOTES_REF)
      .catch((err) =>
        this.log.warn({ err: (err as Error).message }, 'could not push git notes; they stay in the mirror'),
      );
  }

  async reply(queue: string, _to: unknown, message: string): Promise<void> {
    this.log.info({ queue }, message);
  }

  async wasReported(key: string, change: ChangeRecord | undefined): Promise<boolean> {
    const watcher = this.watcherFor(change);
    if (!watcher?.repo.notes || !change) return false;
    return (await watcher.mirror.noteFor(NOTES_REF, change.sha)).includes(`<!-- ${key} -->`);
  }
}
