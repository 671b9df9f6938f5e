// The dashboard's cookies, read and written with the `cookie` package: HttpOnly, SameSite=Strict,
// Path=/, and Secure when the request came over TLS (directly, or through a proxy that says so).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseCookie, stringifySetCookie } from 'cookie';

/** A cookie of the request, or null. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  return parseCookie(req.headers.cookie ?? '')[name] || null;
}

/** Adds a cookie to the answer; `maxAgeS` 0 clears it, undefined keeps it until the browser closes. */
export function setCookie(
  req: IncomingMessage,
  res: ServerResponse,
  cookie: { name: string; value: string; maxAgeS?: number },
): void {
  const { name, value, maxAgeS } = cookie;
  res.appendHeader(
    'set-cookie',
    stringifySetCookie(name, value, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: overTls(req),
      ...(maxAgeS !== undefined ? { maxAge: maxAgeS } : {}),
    }),
  );
}

/** Whether the request came over TLS, directly or through a proxy that says so. */
function overTls(req: IncomingMessage): boolean {
  return (
    (req.socket as { encrypted?: boolean }).encrypted === true ||
    String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]
      ?.trim() === 'https'
  );
}
