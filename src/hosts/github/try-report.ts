// A try run on GitHub: the "ost-gate try" check run on the pull request's head commit (found again by
// the run key as its external_id: in progress while the run goes, then its conclusion), and a comment
// with the result on the pull request, posted once (its marker).
import type { DispatchSpec, Run, TryTarget } from '../../core/index.ts';
import type { RequestOctokit } from '../../ci/github-actions/dispatcher.ts';
import { toMarkdown } from '../../report/markdown.ts';
import { tryDoc, tryMarkdownMarker, tryOutcome, type TryReport } from '../../report/try.ts';
import { checkSummary } from './check-summary.ts';
import { findComment } from './comments.ts';
import { ownerAndName } from './repository.ts';

export const TRY_CHECK_NAME = 'ost-gate try';

/** The check run conclusion of a try that ended. */
function conclusion(run: Pick<Run, 'state'>): 'success' | 'failure' | 'neutral' | 'cancelled' | 'timed_out' {
  if (run.state === 'passed') return 'success';
  if (run.state === 'failed') return 'failure';
  if (run.state === 'cancelled') return 'cancelled';
  return run.state === 'timed-out' ? 'timed_out' : 'neutral';
}

/** Creates the try's check run, or updates the one with its run key. */
async function tryCheck(
  octokit: RequestOctokit,
  run: { key: string; try: TryTarget },
  fields: Record<string, unknown>,
): Promise<void> {
  const r = ownerAndName(run.try.project);
  const head = run.try.head ?? run.try.sha;
  const res = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
    ...r,
    ref: head,
    check_name: TRY_CHECK_NAME,
    per_page: 100,
  });
  const runs = (res.data as { check_runs?: { id: number; external_id?: string | null }[] }).check_runs ?? [];
  const mine = runs.find((c) => c.external_id === run.key);
  if (mine)
    await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      ...r,
      check_run_id: mine.id,
      ...fields,
    });
  else
    await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
      ...r,
      name: TRY_CHECK_NAME,
      head_sha: head,
      external_id: run.key,
      ...fields,
    });
}

/** The try went out: its check run goes in_progress, linking the CI run when its URL is known. */
export async function tryStartedOnGithub(
  octokit: RequestOctokit,
  run: DispatchSpec & { try: TryTarget },
  url: string | null,
): Promise<void> {
  await tryCheck(octokit, run, {
    status: 'in_progress',
    ...(url ? { details_url: url } : {}),
    output: {
      title: 'ost-gate try: running',
      summary: `Run \`${run.key}\` tries ${run.try.sha.slice(0, 10)} over the queue's last passing commits.`,
    },
  });
}

/** The try ended: its check run gets its conclusion, and the pull request a comment (not for a replaced try). */
export async function tryResultOnGithub(octokit: RequestOctokit, report: TryReport): Promise<void> {
  const { run } = report;
  const body = toMarkdown(tryDoc(report));
  await tryCheck(octokit, run, {
    status: 'completed',
    conclusion: conclusion(run),
    ...(report.logUrl ? { details_url: report.logUrl } : {}),
    output: { title: `ost-gate try: ${tryOutcome(run)}`, summary: checkSummary(body, run.try.url ?? null) },
  });
  if (run.state === 'cancelled' || !run.try.number) return;
  const pr = { project: run.try.project, number: run.try.number, sha: run.try.sha };
  if ((await findComment(octokit, pr, tryMarkdownMarker(report.queue, run))) !== null) return;
  await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
    ...ownerAndName(run.try.project),
    issue_number: run.try.number,
    body,
  });
}
