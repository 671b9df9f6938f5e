// Posts verdicts on GitHub: a comment on the PR (a commit comment for a direct push) with the Markdown
// verdict message, edited rather than repeated thanks to its marker, and the "ost-gate" check run on
// the change's commit.
import type { DispatchSpec, TryTarget } from '../../core/index.ts';
import type { TryReport } from '../../report/try.ts';
import { tryResultOnGithub, tryStartedOnGithub } from './try-report.ts';
import type { Reporter } from '../../engine/effects.ts';
import type { OctokitFor } from '../../ci/github-actions/dispatcher.ts';
import { markdownMarker, parseReportKey } from '../../report/markers.ts';
import { toMarkdown } from '../../report/markdown.ts';
import { changePageUrl, type ChangeTarget, type VerdictReport } from '../../report/model.ts';
import { verdictDoc } from '../../report/verdict.ts';
import { githubSettings } from './config.ts';
import { checkSummary } from './check-summary.ts';
import { findComment } from './comments.ts';

export { checkSummary, SUMMARY_LIMIT } from './check-summary.ts';

export const CHECK_NAME = 'ost-gate';

export interface GithubReplyTarget {
  repo: string;
  number: number;
}

function split(repo: string): { owner: string; repo: string } {
  const [owner, name] = repo.split('/') as [string, string];
  return { owner, repo: name };
}

/** The check run conclusion for a verdict. */
export function checkConclusion(verdict: string): 'success' | 'failure' | 'neutral' | 'skipped' {
  if (verdict === 'passed' || verdict === 'fixed') return 'success';
  if (verdict === 'culprit' || verdict === 'rejected' || verdict === 'error') return 'failure';
  if (verdict === 'skipped') return 'skipped';
  return 'neutral';
}

export class GithubReporter implements Reporter {
  constructor(
    private readonly octokitFor: OctokitFor,
    private readonly publicUrl?: string,
  ) {}

  async report(report: VerdictReport): Promise<void> {
    const change = report.target;
    if (!change) return;
    const { verdict } = report;
    const octokit = await this.octokitFor(change.project);
    const r = split(change.project);
    const body = toMarkdown(verdictDoc(report));
    if (report.notify && report.settings.comment) {
      const existing = await findComment(octokit, change, markdownMarker(report.queue, change.id, verdict.verdict));
      if (existing !== null) {
        const route = change.number
          ? 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}'
          : 'PATCH /repos/{owner}/{repo}/comments/{comment_id}';
        await octokit.request(route, { ...r, comment_id: existing, body });
      } else if (change.number) {
        await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          ...r,
          issue_number: change.number,
          body,
        });
      } else {
        await octokit.request('POST /repos/{owner}/{repo}/commits/{commit_sha}/comments', {
          ...r,
          commit_sha: change.sha,
          body,
        });
      }
    }
    if (githubSettings(report.settings.config).check) {
      await this.check(change, {
        status: 'completed',
        conclusion: checkConclusion(verdict.verdict),
        output: { title: `ost-gate: ${verdict.verdict}`, summary: checkSummary(body, report.change.url) },
      });
    }
  }

  /** The change's check run goes in_progress while a run tests it, linking the CI run when its URL is known. */
  async runStarted(_queue: string, change: ChangeTarget, run: DispatchSpec, url: string | null): Promise<void> {
    const scope = run.end === change.id ? 'up to and including this one' : `this one among them, up to ${run.end}`;
    await this.check(change, {
      status: 'in_progress',
      ...(url ? { details_url: url } : {}),
      output: {
        title: 'ost-gate: testing',
        summary: `Run \`${run.key}\` (${run.kind}) tests ${run.changes.length} change(s), ${scope}.`,
      },
    });
  }

  /** Creates or updates the "ost-gate" check run on the change's commit. */
  async check(change: Pick<ChangeTarget, 'id' | 'project' | 'sha'>, fields: Record<string, unknown>): Promise<void> {
    const octokit = await this.octokitFor(change.project);
    const r = split(change.project);
    const res = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
      ...r,
      ref: change.sha,
      check_name: CHECK_NAME,
    });
    const existing = (res.data as { check_runs?: { id: number }[] }).check_runs?.[0];
    const details = this.publicUrl ? { details_url: changePageUrl(this.publicUrl, change.id) } : {};
    // fields may carry their own details_url (the CI run's), which wins over the dashboard's
    if (existing)
      await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
        ...r,
        check_run_id: existing.id,
        ...details,
        ...fields,
      });
    else
      await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
        ...r,
        name: CHECK_NAME,
        head_sha: change.sha,
        ...details,
        ...fields,
      });
  }

  async tryStarted(_queue: string, run: DispatchSpec & { try: TryTarget }, url: string | null): Promise<void> {
    await tryStartedOnGithub(await this.octokitFor(run.try.project), run, url);
  }

  async tryResult(report: TryReport): Promise<void> {
    await tryResultOnGithub(await this.octokitFor(report.run.try.project), report);
  }

  async reply(_queue: string, to: unknown, message: string): Promise<void> {
    const t = to as GithubReplyTarget | null;
    if (!t?.repo || !t.number) return;
    const octokit = await this.octokitFor(t.repo);
    await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
      ...split(t.repo),
      issue_number: t.number,
      body: message,
    });
  }

  async wasReported(key: string, change: ChangeTarget | null): Promise<boolean> {
    const posted = change ? parseReportKey(key, change.id) : null;
    if (!change || !posted) return false;
    const octokit = await this.octokitFor(change.project);
    return (await findComment(octokit, change, markdownMarker(posted.queue, change.id, posted.verdict))) !== null;
  }
}
