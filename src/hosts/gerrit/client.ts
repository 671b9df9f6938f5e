// A small typed Gerrit REST client on fetch: authenticated `/a/` endpoints with basic auth, the `)]}'`
// prefix stripped, names URL-encoded, 5xx and network errors retried with backoff, clear errors otherwise.
import { basicAuth, fetchWithRetry, parseGuardedJson, ResponseError } from '../../http/fetch.ts';
import type { GerritAccount, GerritChangeInfo, GerritCommitInfo, GerritGroupInfo, GerritMessage } from './types.ts';

/** A Gerrit answer that was not a success (the transport's error, named for this client). */
export { ResponseError as GerritError };

export interface GerritClientOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  retries?: number;
  /** Smallest wait between retries, in ms (tests use a small one). */
  minTimeout?: number;
}

/** What change queries ask for: the current revision with its commit, and accounts with their names. */
const CHANGE_OPTIONS = 'o=CURRENT_REVISION&o=CURRENT_COMMIT&o=DETAILED_ACCOUNTS';
/** What the queries for the changes a branch update landed add: the files each touches. */
const LANDED_OPTIONS = `${CHANGE_OPTIONS}&o=CURRENT_FILES`;

const HINTS = {
  401: 'not authenticated: check GERRIT_USERNAME and GERRIT_PASSWORD (the HTTP password from Settings)',
  403: 'forbidden: the service user lacks a permission or capability',
  404: 'not found',
};

export class GerritClient {
  readonly base: string;
  private readonly auth: string | null;

  constructor(private readonly opts: GerritClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.auth = basicAuth(opts.username, opts.password);
  }

  /** The host part of change ids: `gerrit:<host>/<project>~<n>`. */
  get host(): string {
    return new URL(this.base).host;
  }

  /** A change's page in Gerrit's web UI. */
  changeUrl(project: string, number: number): string {
    return `${this.base}/c/${project}/+/${number}`;
  }

  /** Calls `/a/<path>`, retrying 5xx and network errors, and returns the body's text. */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<string> {
    const url = `${this.base}/a/${path.replace(/^\//, '')}`;
    const init: RequestInit = {
      method,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    };
    const res = await fetchWithRetry(url, init, {
      service: 'Gerrit',
      authorization: this.auth,
      hints: HINTS,
      ...(this.opts.retries !== undefined ? { retries: this.opts.retries } : {}),
      ...(this.opts.minTimeout !== undefined ? { minTimeout: this.opts.minTimeout } : {}),
    });
    return res.text;
  }

  /** Calls `/a/<path>` and parses the JSON answer, without Gerrit's `)]}'` prefix. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return parseGuardedJson<T>(await this.call(method, path, body));
  }

  change(project: string, number: number): Promise<GerritChangeInfo> {
    return this.request('GET', `changes/${encodeURIComponent(project)}~${number}?${CHANGE_OPTIONS}`);
  }

  /** Finds changes by Change-Id (`I...`), for Depends-On footers and commits pushed past review. */
  byChangeId(changeId: string): Promise<GerritChangeInfo[]> {
    return this.request('GET', `changes/?q=${encodeURIComponent(`change:${changeId}`)}&${LANDED_OPTIONS}`);
  }

  /** The changes that have a patch set with this commit (`commit:` matches every patch set). */
  byCommit(sha: string): Promise<GerritChangeInfo[]> {
    return this.request('GET', `changes/?q=${encodeURIComponent(`commit:${sha}`)}&${LANDED_OPTIONS}`);
  }

  /** One commit of a project: its parents and message. */
  commit(project: string, sha: string): Promise<GerritCommitInfo> {
    return this.request('GET', `projects/${encodeURIComponent(project)}/commits/${encodeURIComponent(sha)}`);
  }

  /** The branches (and tags) that contain a commit. */
  includedIn(project: string, sha: string): Promise<{ branches?: string[]; tags?: string[] }> {
    return this.request('GET', `projects/${encodeURIComponent(project)}/commits/${encodeURIComponent(sha)}/in`);
  }

  /** The files a commit touches (for commits no change carries). */
  async commitFiles(project: string, sha: string): Promise<string[]> {
    const path = `projects/${encodeURIComponent(project)}/commits/${encodeURIComponent(sha)}/files/`;
    const files = await this.request<Record<string, unknown>>('GET', path);
    return Object.keys(files ?? {}).filter((f) => !f.startsWith('/'));
  }

  /**
   * The groups of an account that the service user may see, or null when it may not see the account.
   * External groups (LDAP and the like) are among them only for a user with Administrate Server.
   */
  async accountGroups(account: string): Promise<GerritGroupInfo[] | null> {
    try {
      return await this.request<GerritGroupInfo[]>('GET', `accounts/${encodeURIComponent(account)}/groups`);
    } catch (err) {
      if (err instanceof ResponseError && (err.status === 404 || err.status === 403)) return null;
      throw err;
    }
  }

  /** Whether the service user has the Administrate Server capability (it then sees external groups). */
  async administratesServer(): Promise<boolean> {
    const caps = await this.request<Record<string, unknown>>('GET', 'accounts/self/capabilities?q=administrateServer');
    return caps?.administrateServer === true;
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

  /** The changes that revert change `number` (the `revertof:` search operator), open or merged. */
  revertsOf(number: number): Promise<GerritChangeInfo[]> {
    return this.request('GET', `changes/?q=${encodeURIComponent(`revertof:${number}`)}`);
  }

  /** Opens the revert of a merged change (RevertInput: `message` is the revert's commit message). */
  revert(project: string, number: number, input: { message: string; notify?: string }): Promise<GerritChangeInfo> {
    return this.request('POST', `changes/${encodeURIComponent(project)}~${number}/revert`, input);
  }

  /** Submits a change (needs the Submit right and a submittable change: 409 otherwise). */
  submitChange(project: string, number: number): Promise<GerritChangeInfo> {
    return this.request('POST', `changes/${encodeURIComponent(project)}~${number}/submit`, {});
  }

  /** The files a revision of a change touches (Gerrit's magic files like /COMMIT_MSG left out). */
  async files(project: string, number: number, revision: string): Promise<string[]> {
    const path = `changes/${encodeURIComponent(project)}~${number}/revisions/${encodeURIComponent(revision)}/files`;
    const files = await this.request<Record<string, unknown>>('GET', path);
    return Object.keys(files ?? {}).filter((f) => !f.startsWith('/'));
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
      if (err instanceof ResponseError && err.status === 404) return null;
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
      if (err instanceof ResponseError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * The members of a group, its included groups' members too; null when the service user cannot see
   * the group (404 or 403), and 'external' for a group that is not Gerrit's own (LDAP and the like:
   * Gerrit answers 405, it cannot list their members). Gerrit lists only the members the service
   * user may see: all of them for its owners, Administrate Server, or a group visible to all
   * registered users; otherwise only the service user itself.
   */
  async groupMembers(group: string): Promise<GerritAccount[] | null | 'external'> {
    try {
      return await this.request<GerritAccount[]>('GET', `groups/${encodeURIComponent(group)}/members/?recursive`);
    } catch (err) {
      if (err instanceof ResponseError && (err.status === 404 || err.status === 403)) return null;
      if (err instanceof ResponseError && err.status === 405) return 'external';
      throw err;
    }
  }
}

export function accountName(a: GerritAccount | undefined): string {
  return a?.username ?? a?.email ?? a?.name ?? String(a?._account_id ?? 'unknown');
}
