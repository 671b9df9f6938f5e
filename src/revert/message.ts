// The words of a revert, written once for every host: the revert's commit message with the evidence,
// and the notes posted on the culprit and on the revert.
import type { Evidence } from '../core/index.ts';
import type { RevertRequest } from '../engine/effects.ts';

/** The footer with which an author asks that the bot never revert the change. */
export const NO_REVERT_FOOTER = /^OST-No-Revert:\s*true\s*$/im;

const percent = (x: number) => `${(x * 100).toFixed(2)}%`;

function evidenceLines(evidence: Evidence[]): string[] {
  return evidence.map((e) => `- ${e.result} run ${e.key} up to ${e.end}${e.url ? `: ${e.url}` : ''}`);
}

/** Why the bot reverts: the queue, the confidence, the runs, the dashboard page. */
export function revertReason(r: RevertRequest): string {
  return [
    `ost-gate found this change to break the system tests of queue ${r.queue} ` +
      `(confidence ${percent(r.effect.confidence)}).`,
    ...(r.effect.evidence.length ? ['', 'Evidence:', ...evidenceLines(r.effect.evidence)] : []),
    ...(r.pageUrl ? ['', `Details: ${r.pageUrl}`] : []),
  ].join('\n');
}

/** The revert's commit message, in git's own words plus the reason. */
export function revertCommitMessage(r: RevertRequest): string {
  return `Revert "${r.culprit.title}"\n\nThis reverts commit ${r.culprit.sha}.\n\nReason for revert: ${revertReason(r)}\n`;
}

/** Posted on the culprit when no revert is opened. */
export function noRevertNote(reason: string, sha: string): string {
  return `ost-gate did not open a revert of this change: ${reason}. To revert it by hand: git revert ${sha}`;
}

/** Posted on the culprit once its revert is open. */
export function revertOpenedNote(url: string, byBot: boolean): string {
  return byBot
    ? `ost-gate opened a revert of this change: ${url}. It is tested by the queue like any change.`
    : `A revert of this change is already open: ${url}. ost-gate did not open another.`;
}
