// Verdict comments for GitHub: a heading `ost-gate: <verdict>`, the queue, the evidence, and a hidden marker
// so that a retried report edits its comment instead of posting a second one.
import type { ChangeRecord, VerdictRecord } from '../../core/index.ts';
import type { QueueFile } from '../../store/types.ts';

export function marker(queue: string, change: string, verdict: string): string {
  return `<!-- ost-gate:${queue}:${change}:${verdict} -->`;
}

function describe(file: QueueFile, id: string): string {
  const c = file.state.changes[id];
  if (!c) return `\`${id}\``;
  const label = c.number ? `#${c.number}` : `\`${c.sha.slice(0, 10)}\``;
  return c.url ? `[${label}](${c.url}) ${c.title ?? ''}`.trim() : `${label} ${c.title ?? ''}`.trim();
}

function runLink(file: QueueFile, key: string | undefined, fallback = 'the run'): string {
  const run = key ? file.state.runs[key] : undefined;
  return run?.url ? `[${key}](${run.url})` : key ? `\`${key}\`` : fallback;
}

export function verdictMessage(
  queue: string,
  change: ChangeRecord | undefined,
  v: VerdictRecord,
  file: QueueFile,
  dashboardUrl?: string,
): string {
  const lines = [`### ost-gate: ${v.verdict}`, '', `Queue \`${queue}\`.`];
  if (v.verdict === 'culprit') {
    lines.push(
      '',
      `This change is the first one, in merge order, whose system-test run fails: ${runLink(file, v.run, 'the failing run')}.`,
    );
    lines.push(
      `Confidence that it is the culprit and not a flaky test: **${((v.confidence ?? 0) * 100).toFixed(2)}%**.`,
    );
    if (v.evidence?.length) {
      lines.push('', '| run | tested up to | result |', '|---|---|---|');
      for (const e of v.evidence)
        lines.push(`| ${e.url ? `[${e.key}](${e.url})` : `\`${e.key}\``} | ${describe(file, e.end)} | ${e.result} |`);
    }
    if (v.blocked?.length) lines.push('', `Blocked by it: ${v.blocked.map((b) => describe(file, b)).join(', ')}.`);
    lines.push(
      '',
      'If this is wrong (a flaky test, an infrastructure problem), comment `/ost not-culprit`: the range is tested again and the flake is recorded. `/ost retry` re-runs the failing run. A revert of this change is tested first.',
    );
  } else if (v.verdict === 'blocked') {
    const culprit = v.culprit ? describe(file, v.culprit) : 'an unfixed culprit';
    lines.push(
      '',
      v.run
        ? `This change was tested only on top of ${culprit}, which breaks the system tests (${runLink(file, v.run)}).`
        : `This change comes after ${culprit}, which breaks the system tests; it was not tested on its own.`,
    );
    if (v.reason) lines.push(`Why: ${v.reason}.`);
  } else if (v.verdict === 'fixed') {
    lines.push(
      '',
      `The system tests pass again with this change${v.run ? ` (${runLink(file, v.run)})` : ''}; it fixed ${v.culprit ? describe(file, v.culprit) : 'the break'}.`,
    );
  } else if (v.verdict === 'passed') {
    lines.push('', `The system tests passed with this change included${v.run ? ` (${runLink(file, v.run)})` : ''}.`);
  } else if (v.reason) {
    lines.push('', v.reason);
  }
  if (dashboardUrl && change)
    lines.push('', `[Details on the dashboard](${dashboardUrl}/changes/${encodeURIComponent(change.id)})`);
  lines.push('', marker(queue, v.change, v.verdict));
  return lines.join('\n');
}

/** The check run conclusion for a verdict. */
export function checkConclusion(verdict: string): 'success' | 'failure' | 'neutral' | 'skipped' {
  if (verdict === 'passed' || verdict === 'fixed') return 'success';
  if (verdict === 'culprit' || verdict === 'rejected' || verdict === 'error') return 'failure';
  if (verdict === 'skipped') return 'skipped';
  return 'neutral';
}
