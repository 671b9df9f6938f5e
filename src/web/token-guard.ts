// Wrong tokens (admin, dashboard, metrics) are counted per client address: after 10 in a minute the
// address gets 429 with Retry-After, without the token being checked, until the minute is over. Each
// wrong token is logged at warn level, naming the address and which token, never the token itself.
// The address is the connection's: behind a proxy, every client shares the proxy's.
import type { IncomingMessage } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from '../http/body.ts';
import type { Logger } from '../log.ts';
import { secretEquals } from '../http/signature.ts';

/** Wrong tokens an address may send in WINDOW_S seconds. */
export const WRONG_TOKENS_ALLOWED = 10;
const WINDOW_S = 60;

export type TokenKind = 'admin' | 'dashboard' | 'metrics';

export class TokenGuard {
  private readonly limiter = new RateLimiterMemory({ points: WRONG_TOKENS_ALLOWED, duration: WINDOW_S });

  constructor(private readonly log: Logger) {}

  private address(req: IncomingMessage): string {
    return req.socket.remoteAddress ?? 'unknown';
  }

  /**
   * Whether `given` is the `expected` token (constant time). An address that sent too many wrong
   * tokens lately gets 429 before anything is checked; a wrong token is counted and logged.
   */
  async verify(req: IncomingMessage, kind: TokenKind, token: { expected: string; given: string | null | undefined }) {
    await this.admit(req);
    if (secretEquals(token.expected, token.given ?? undefined)) return true;
    await this.wrong(req, kind);
    return false;
  }

  /** Throws 429 when the request's address has sent too many wrong tokens lately. */
  async admit(req: IncomingMessage): Promise<void> {
    const used = await this.limiter.get(this.address(req));
    if (used && used.consumedPoints >= WRONG_TOKENS_ALLOWED) throw tooMany(used);
  }

  /** Counts a wrong token from the request's address, logs it, and throws 429 once there were too many. */
  async wrong(req: IncomingMessage, kind: TokenKind): Promise<void> {
    const remote = this.address(req);
    this.log.warn({ remote, which: kind, path: req.url?.split('?')[0] }, `wrong or missing ${kind} token`);
    try {
      await this.limiter.consume(remote);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw tooMany(err);
      throw err;
    }
  }
}

function tooMany(res: RateLimiterRes): HttpError {
  const seconds = Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  return new HttpError(429, `too many wrong tokens from this address; try again in ${seconds} s`, {
    'retry-after': String(seconds),
  });
}
