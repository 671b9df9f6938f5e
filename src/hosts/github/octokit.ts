// The Octokit class the GitHub App uses: Probot's own, except that GitHub's secondary rate limits are
// waited out and retried as GitHub asks (Probot's client gives up after the first), a few times and
// for a minute at most each; a longer wait fails the call, which the caller counts as an infra error.
import { ProbotOctokit } from 'probot';

/** Retries of one request after a (secondary) rate limit. */
export const RATE_LIMIT_RETRIES = 3;
/** The longest wait GitHub may ask for before a retry, in seconds. */
export const RATE_LIMIT_MAX_WAIT_S = 60;

interface ThrottledRequest {
  method: string;
  url: string;
  request: { retryCount: number };
}

type Warn = { log?: { warn?: (msg: string) => void } };

/** Whether to retry after GitHub said to wait `retryAfter` seconds. */
function waitAndRetry(kind: string) {
  return (retryAfter: number, options: ThrottledRequest, octokit: Warn): boolean => {
    const retry = options.request.retryCount < RATE_LIMIT_RETRIES && retryAfter <= RATE_LIMIT_MAX_WAIT_S;
    octokit.log?.warn?.(
      `GitHub ${kind} for ${options.method} ${options.url}: ` +
        (retry
          ? `retrying in ${retryAfter} s`
          : `giving up (GitHub asks for ${retryAfter} s, retry ${options.request.retryCount})`),
    );
    return retry;
  };
}

/**
 * Probot's Octokit with bounded retries on rate limits. Its options are applied after Probot's own
 * (which log secondary limits and do not retry), so they win.
 */
export const RetryingOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: {
    ...(options.throttle as Record<string, unknown> | undefined),
    onSecondaryRateLimit: waitAndRetry('secondary rate limit'),
    onRateLimit: waitAndRetry('rate limit'),
  },
}));
