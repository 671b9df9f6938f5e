// Reverts a confirmed culprit on Gerrit (POST /changes/{id}/revert), once: a revert that already
// exists is found first (`revertof:`), so a retry after a crash finds the one it opened. Each guard
// that stops a revert is posted on the culprit: the queue's (revert/plan.ts), the author's
// `OST-No-Revert: true` footer, and a right the service user lacks. With `revert.submit` the revert is
// submitted too; a refused submit is posted on the revert, which stays open for a person.
import type { RevertRequest, Reverter } from '../../engine/effects.ts';
import { silentLogger, type Logger } from '../../log.ts';
import { textMarker } from '../../report/markers.ts';
import {
  NO_REVERT_FOOTER,
  noRevertNote,
  revertCommitMessage,
  revertOpenedNote,
  revertReason,
} from '../../revert/message.ts';
import { GerritError, type GerritClient } from './client.ts';
import { TAG } from './events.ts';
import type { GerritChangeInfo } from './types.ts';

export class GerritReverter implements Reverter {
  constructor(
    private readonly client: GerritClient,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Posts `message` on a change unless a message with `marker` is there already. */
  private async sayOnce(project: string, number: number, marker: string, message: string): Promise<void> {
    const messages = await this.client.messages(project, number);
    if (messages.some((m) => m.tag === TAG && m.message.includes(marker))) return;
    await this.client.review(project, number, 'current', {
      message: `${message}\n\n${marker}`,
      tag: TAG,
      notify: 'OWNER',
    });
  }

  async revert(request: RevertRequest): Promise<void> {
    const { queue, culprit, effect } = request;
    if (!culprit.number) {
      this.log.info(
        { queue, change: culprit.id },
        `no revert opened for ${culprit.sha.slice(0, 10)}: it was pushed past review; revert it with git revert ${culprit.sha}`,
      );
      return;
    }
    const { project, number } = { project: culprit.project, number: culprit.number };
    const onCulprit = (marker: string, message: string) =>
      this.sayOnce(project, number, textMarker(queue, culprit.id, marker), message);
    const refuse = async (reason: string) => {
      this.log.info({ queue, change: culprit.id, reason }, 'no revert opened');
      await onCulprit('revert', noRevertNote(reason, culprit.sha));
    };
    if (effect.refused) return refuse(effect.refused);
    const existing = await this.client.revertsOf(number);
    if (existing.some((c) => c.status === 'MERGED')) return;
    const open = existing.find((c) => c.status === 'NEW');
    if (open) {
      const self = await this.client.request<{ _account_id: number }>('GET', 'accounts/self');
      const byBot = open.owner?._account_id === self._account_id;
      await onCulprit('revert', revertOpenedNote(this.client.changeUrl(open.project, open._number), byBot));
      if (effect.submit) await this.submit(open, request);
      return;
    }
    const info = await this.client.change(project, number);
    const message = info.revisions?.[info.current_revision ?? '']?.commit?.message ?? '';
    if (NO_REVERT_FOOTER.test(message)) return refuse('its author opted out with the footer "OST-No-Revert: true"');
    let revert: GerritChangeInfo;
    try {
      revert = await this.client.revert(project, number, { message: revertCommitMessage(request), notify: 'OWNER' });
    } catch (err) {
      if (!(err instanceof GerritError) || err.status >= 500) throw err;
      return refuse(
        err.status === 403
          ? `the ost-gate account may not revert changes of ${project} (it needs the Revert right)`
          : `Gerrit refused the revert: ${err.message}`,
      );
    }
    // the revert carries the bot's tag from its first message, so that a retry knows who opened it
    await this.sayOnce(
      revert.project,
      revert._number,
      textMarker(queue, culprit.id, 'revert-of'),
      revertReason(request),
    );
    await onCulprit('revert', revertOpenedNote(this.client.changeUrl(revert.project, revert._number), true));
    this.log.info({ queue, change: culprit.id, revert: revert._number }, 'revert opened');
    if (effect.submit) await this.submit(revert, request);
  }

  /** Submits the revert; a refusal is posted on it and it stays open. */
  private async submit(revert: GerritChangeInfo, { queue, culprit }: RevertRequest): Promise<void> {
    try {
      await this.client.submitChange(revert.project, revert._number);
      this.log.info({ queue, change: culprit.id, revert: revert._number }, 'revert submitted');
    } catch (err) {
      if (!(err instanceof GerritError) || err.status >= 500) throw err;
      const why =
        err.status === 403 ? 'the ost-gate account may not submit it (it needs the Submit right)' : err.message;
      await this.sayOnce(
        revert.project,
        revert._number,
        textMarker(queue, culprit.id, 'revert-submit'),
        `ost-gate did not submit this revert: ${why}. Submit it by hand once it may be.`,
      );
    }
  }
}
