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
