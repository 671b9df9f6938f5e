// The transport below the API clients (Gerrit REST, Jenkins): one authenticated fetch that retries
// 5xx answers and network errors with backoff, refuses other failures at once with a clear error,
// and strips Gerrit's `)]}'` guard from JSON answers.
import pRetry, { AbortError } from 'p-retry';

/** An HTTP answer that was not a success, with its status. */
export class ResponseError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `Basic <base64>` for a user and password (or API token); null when either is missing. */
export function basicAuth(user: string | undefined, password: string | undefined): string | null {
  return user && password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : null;
}

const XSSI_PREFIX = ")]}'";

/** Parses a JSON answer, without the `)]}'` line Gerrit puts before it against cross-site script inclusion. */
export function parseGuardedJson<T>(text: string): T {
  const json = text.startsWith(XSSI_PREFIX) ? text.slice(XSSI_PREFIX.length) : text;
  return (json.trim() ? JSON.parse(json) : null) as T;
}

export interface RetryingFetchOptions {
  /** Names the service in error messages: `Gerrit`, `Jenkins`. */
  service: string;
  /** The `authorization` header to send, if any. */
  authorization?: string | null;
  retries?: number;
  /** Smallest wait between retries, ms (tests use a small one). */
  minTimeout?: number;
  /** A sentence per status that tells the operator what to check (401: the credentials). */
  hints?: Partial<Record<number, string>>;
  /** How long one attempt may wait for the whole answer (default REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * How long a request to a code host or CI may take: one that never answers must not hold up the
 * queue's effects behind it for ever. It fails, is retried, and its effect stays in the outbox.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A fetch that gives up after `timeoutMs`, with an error that says so. */
export async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: no answer in ${timeoutMs / 1000} s`, {
        cause: err,
      });
    throw err;
  }
}

export interface FetchedText {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Sends a request, retrying 5xx answers and network errors with exponential backoff. Any other
 * answer outside 2xx/3xx throws a ResponseError at once, naming the service, method, path and a hint.
 */
export async function fetchWithRetry(url: string, init: RequestInit, opts: RetryingFetchOptions): Promise<FetchedText> {
  const method = init.method ?? 'GET';
  const where = `${opts.service} ${method} ${new URL(url).pathname}`;
  return pRetry(
    async () => {
      const res = await fetchWithTimeout(
        url,
        {
          ...init,
          headers: { ...(opts.authorization ? { authorization: opts.authorization } : {}), ...headersOf(init.headers) },
        },
        opts.timeoutMs,
      ).catch((err: Error) => {
        throw new Error(`${opts.service} ${err.message}`, { cause: err });
      });
      const text = await res.text();
      if (res.status >= 500) throw new ResponseError(res.status, `${where}: ${res.status} ${text.slice(0, 200)}`);
      if (res.status >= 400) {
        const why = opts.hints?.[res.status] ?? text.trim().slice(0, 300);
        throw new AbortError(new ResponseError(res.status, `${where}: ${res.status} ${why}`));
      }
      return { status: res.status, headers: res.headers, text };
    },
    { retries: opts.retries ?? 4, minTimeout: opts.minTimeout ?? 500, factor: 2 },
  );
}

function headersOf(h: RequestInit['headers']): Record<string, string> {
  if (!h) return {};
  return Object.fromEntries(new Headers(h).entries());
}
