// A small typed Gerrit REST client on fetch: authenticated `/a/` endpoints with basic auth, the `)]}'`
// prefix stripped, names URL-encoded, 5xx and network errors retried with backoff, clear errors otherwise.
import pRetry, { AbortError } from 'p-retry';
import type { GerritAccount, GerritChangeInfo, GerritMessage } from './types.ts';

export class GerritError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GerritClientOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  retries?: number;
  /** Smallest wait between retries, in ms (tests use a small one). */
  minTimeout?: number;
}

const XSSI = ")]}'";

export class GerritClient {
  readonly base: string;
  private readonly auth: string | null;

  constructor(private readonly opts: GerritClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.auth =
      opts.username && opts.password
        ? `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`
        : null;
  }

  /** The host part of change ids: `gerrit:<host>/<project>~<n>`. */
  get host(): string {
    return new URL(this.base).host;
  }

  /** Calls `/a/<path>`, retrying 5xx and network errors, and returns the body's text. */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
    const url = `${this.base}/a/${path.replace(/^\//, '')}`;
    return pRetry(
      async () => {
        const res = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(this.auth ? { authorization: this.auth } : {}),
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        if (res.status >= 500)
          throw new GerritError(res.status, `Gerrit ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
        if (!res.ok) {
          const why =
            res.status === 401
              ? 'not authenticated: check GERRIT_USERNAME and GERRIT_PASSWORD (the HTTP password from Settings)'
              : res.status === 403
                ? 'forbidden: the service user lacks a permission or capability'
                : res.status === 404
                  ? 'not found'
                  : text.trim().slice(0, 300);
          throw new AbortError(new GerritError(res.status, `Gerrit ${method} ${path}: ${res.status} ${why}`));
        }
        return text;
      },
      { retries: this.opts.retries ?? 4, minTimeout: this.opts.minTimeout ?? 500, factor: 2 },
    );
  }

  /** Calls `/a/<path>` and parses the JSON answer, without Gerrit's `)]}'` prefix. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const text = await this.call(method, path, body);
    const json = text.startsWith(XSSI) ? text.slice(XSSI.length) : text;
    return (json.trim() ? JSON.parse(json) : null) as T;
  }

  change(project: string, number: number): Promise<GerritChangeInfo> {
    return this.request('GET', `changes/${encodeURIComponent(project)}~${number}?o=CURRENT_REVISION&o=CURRENT_COMMIT`);
  }

  /** Finds changes by Change-Id (`I...`), for Depends-On footers. */
  byChangeId(changeId: string): Promise<GerritChangeInfo[]> {
    return this.request('GET', `changes/?q=${encodeURIComponent(`change:${changeId}`)}`);
  }

  messages(project: string, number: number): Promise<GerritMessage[]> {
    return this.request('GET', `changes/${encodeURIComponent(project)}~${number}/messages`);
  }

  review(
    project: string,
    number: number,
    revision: string,
    input: { message: string; tag: string; notify?: string; labels?: Record<string, number> },
  ): Promise<unknown> {
    return this.request(
      'POST',
      `changes/${encodeURIComponent(project)}~${number}/revisions/${encodeURIComponent(revision)}/review`,
      input,
    );
  }

  /** A file at the tip of a branch, or null when it is not there. */
  async branchFile(project: string, branch: string, path: string): Promise<string | null> {
    try {
      const b64 = await this.call(
        'GET',
        `projects/${encodeURIComponent(project)}/branches/${encodeURIComponent(branch)}/files/${encodeURIComponent(path)}/content`,
      );
      return Buffer.from(b64, 'base64').toString('utf8');
    } catch (err) {
      if (err instanceof GerritError && err.status === 404) return null;
      throw err;
    }
  }

  /** Events since a time (seconds) from the events-log plugin, or null when the plugin is not installed. */
  async eventsSince(seconds: number): Promise<unknown[] | null> {
    const t1 = new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
    try {
      const text = await this.call('GET', `plugins/events-log/events/?t1=${encodeURIComponent(t1)}`);
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
    } catch (err) {
      if (err instanceof GerritError && err.status === 404) return null;
      throw err;
    }
  }

  groups(account: string): Promise<{ name: string; id: string }[]> {
    return this.request('GET', `accounts/${encodeURIComponent(account)}/groups`);
  }
}

export function accountName(a: GerritAccount | undefined): string {
  return a?.username ?? a?.email ?? a?.name ?? String(a?._account_id ?? 'unknown');
}
