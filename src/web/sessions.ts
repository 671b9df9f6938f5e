// Operator sessions of the dashboard. The admin token is typed once into a sign-in form (a POST);
// the server then keeps a session under a random id, sent back as a cookie (HttpOnly, SameSite=Strict,
// Secure behind TLS, Path=/, a few hours' life). Each session has its own CSRF token, carried by the
// admin forms, and a one-time message (the reply of the last command). No URL, redirect or polled
// address ever carries the token.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { secretEquals } from '../http/signature.ts';
import { BoundedMap } from '../util/bounded.ts';
import { readCookie, setCookie } from './cookies.ts';

export const SESSION_COOKIE = 'ost_admin';
/** How long a session lives after sign-in. */
export const SESSION_TTL_MS = 4 * 3600_000;
/** Sessions kept at most; the oldest go first. */
const SESSIONS_KEPT = 1000;

export interface AdminSession {
  id: string;
  csrf: string;
  expires: number;
  /** Shown once on the next page, then gone. */
  flash?: string;
}

export class AdminSessions {
  private readonly sessions = new BoundedMap<string, AdminSession>(SESSIONS_KEPT);

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session, with its cookie set on `res`. */
  start(req: IncomingMessage, res: ServerResponse): AdminSession {
    const session: AdminSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(24).toString('base64url'),
      expires: this.now() + SESSION_TTL_MS,
    };
    this.sessions.set(session.id, session);
    setCookie(req, res, { name: SESSION_COOKIE, value: session.id, maxAgeS: SESSION_TTL_MS / 1000 });
    return session;
  }

  /** The live session the request's cookie names, or null. */
  get(req: IncomingMessage): AdminSession | null {
    const id = readCookie(req, SESSION_COOKIE);
    if (!id) return null;
    const session = this.sessions.get(id);
    if (!session) return null;
    if (session.expires <= this.now()) {
      this.sessions.delete(id);
      return null;
    }
    return session;
  }

  /** Whether `given` is the session's CSRF token (constant time). */
  csrfMatches(session: AdminSession, given: string | null): boolean {
    return secretEquals(session.csrf, given ?? undefined);
  }

  /** Ends the request's session and clears its cookie. */
  end(req: IncomingMessage, res: ServerResponse): void {
    const id = readCookie(req, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
    setCookie(req, res, { name: SESSION_COOKIE, value: '', maxAgeS: 0 });
  }

  /** The session's one-time message, taken off it. */
  takeFlash(session: AdminSession): string | undefined {
    const flash = session.flash;
    delete session.flash;
    return flash;
  }
}
