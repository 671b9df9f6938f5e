// Links from outside (CI runs, code hosts) are kept only when they are http or https: a `javascript:`
// or `data:` URL in a callback or an event must never reach a page or the API.

/** `url` when it is a valid http(s) URL of sane length, otherwise null. */
export function httpUrl(url: unknown): string | null {
  if (typeof url !== 'string' || url.length > 2000) return null;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** A URL as it may appear in a log line: without a user, password or query (where tokens travel). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}
