// The reply to `/ost status`: where a change is — queued, in which run, or its verdict — with links.
import { runsInFlight } from '../../web/views.ts';
import type { QueueFile } from '../../store/types.ts';

export function describeChange(queue: string, file: QueueFile, id: string, publicUrl?: string): string {
  const change = file.state.changes[id];
  const link = publicUrl ? `\n\n[Details on the dashboard](${publicUrl}/changes/${encodeURIComponent(id)})` : '';
  if (!change) return `${id} has its verdict; it is in the history of queue \`${queue}\`.${link}`;
  if (change.state === 'done') {
    const v = [...file.state.verdicts].reverse().find((x) => x.change === id && !x.retracted);
    const culprit = change.culprit ? ` (culprit ${change.culprit})` : '';
    return `ost-gate: **${change.verdict}**${culprit} in queue \`${queue}\`${v?.run ? `, decided on run \`${v.run}\`` : ''}.${link}`;
  }
  const runs = runsInFlight(file.state).filter((r) => r.changes.includes(id));
  const where = runs.length
    ? `under test in ${runs.map((r) => (r.url ? `[${r.key}](${r.url})` : `\`${r.key}\``)).join(', ')}`
    : change.state === 'waiting'
      ? 'waiting for a dependency'
      : 'queued for the next run';
  const paused = file.state.paused ? ` The queue is paused: ${file.state.paused.reason}.` : '';
  return `ost-gate: ${id} is ${where} in queue \`${queue}\`.${paused}${link}`;
}
