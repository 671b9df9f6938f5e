// The HTTP side of Jenkins, below the dispatcher: basic authentication with the user's API token,
// JSON reads with retries, and POSTs with a crumb, fetched when Jenkins asks for one and again when
// it refuses the one it gave (its session ended).
import { basicAuth, fetchWithRetry, fetchWithTimeout } from '../../http/fetch.ts';
import type { Logger } from '../../log.ts';

export interface JenkinsClientOptions {
  url: string;
  user?: string | undefined;
  token?: string | undefined;
  log: Logger;
  /** Smallest wait between HTTP retries (tests use a small one). */
  minTimeout?: number | undefined;
}

export class JenkinsClient {
  private readonly base: string;
  private readonly auth: string | null;
  private readonly log: Logger;
  private crumb: { field: string; value: string; cookie?: string } | null = null;

  constructor(private readonly opts: JenkinsClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.auth = basicAuth(opts.user, opts.token);
    this.log = opts.log;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.auth ? { authorization: this.auth } : {}),
      ...(this.crumb
        ? { [this.crumb.field]: this.crumb.value, ...(this.crumb.cookie ? { cookie: this.crumb.cookie } : {}) }
        : {}),
      ...extra,
    };
  }

  async fetchJson<T>(url: string): Promise<T> {
    const res = await fetchWithRetry(
      url,
      { headers: this.headers({ accept: 'application/json' }) },
      {
        service: 'Jenkins',
        retries: 3,
        minTimeout: this.opts.minTimeout ?? 500,
        hints: { 401: 'not authenticated: check JENKINS_USER and JENKINS_TOKEN' },
      },
    );
    return JSON.parse(res.text) as T;
  }

  private async getCrumb(): Promise<void> {
    const res = await fetchWithTimeout(`${this.base}/crumbIssuer/api/json`, {
      headers: { ...(this.auth ? { authorization: this.auth } : {}), accept: 'application/json' },
    });
    if (!res.ok)
      throw new Error(`Jenkins asked for a crumb but ${this.base}/crumbIssuer/api/json answered ${res.status}`);
    const data = (await res.json()) as { crumbRequestField: string; crumb: string };
    const cookie = res.headers.get('set-cookie')?.split(';')[0];
    this.crumb = { field: data.crumbRequestField, value: data.crumb, ...(cookie ? { cookie } : {}) };
  }

  /** A POST with the crumb; when Jenkins refuses the crumb (or wants one), a fresh one is fetched and it is sent again. */
  async post(url: string, body?: string): Promise<Response> {
    const send = () =>
      fetchWithTimeout(url, {
        method: 'POST',
        redirect: 'manual',
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        ...(body === undefined ? {} : { body }),
      });
    const res = await send();
    if (res.status !== 403 || !/crumb/i.test(await res.clone().text())) return res;
    if (this.crumb) this.log.info({}, 'Jenkins refused its crumb (its session ended); fetching a new one');
    this.crumb = null;
    await this.getCrumb();
    return send();
  }
}
