// Small HTTP helpers for the server: bounded body reading (per request, and in all for requests not
// yet authenticated), JSON nesting limits, and JSON/text replies.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Headers the answer carries (`Retry-After` on a 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * The bytes all requests that are not authenticated yet may hold in memory at once (their signature
 * is checked once the whole body is in). A request that would go over it gets 503: a flood of large
 * unsigned bodies cannot grow the process.
 */
export class BodyBudget {
  private held = 0;
  /** The most bytes held at once so far. */
  peak = 0;

  constructor(readonly limit: number) {}

  /** Takes `n` bytes from the budget; false (and nothing taken) when that would go over it. */
  take(n: number): boolean {
    if (this.held + n > this.limit) return false;
    this.held += n;
    this.peak = Math.max(this.peak, this.held);
    return true;
  }

  give(n: number): void {
    this.held = Math.max(0, this.held - n);
  }
}

/** The budget the server's signed endpoints (GitHub webhooks, the CI callback) share: 64 MiB. */
export const unauthenticatedBodies = new BodyBudget(64 * 1024 * 1024);

/**
 * Reads the whole body, refusing more than `limit` bytes with 413. With a `budget`, the bytes are
 * taken from it while the body is read and given back when the request is done; going over it is a 503.
 */
export async function readBody(req: IncomingMessage, limit: number, budget?: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body too large: ${declared} bytes, the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const n = (chunk as Buffer).length;
      if (size + n > limit) throw new HttpError(413, `body too large: over ${limit} bytes`);
      if (budget && !budget.take(n)) throw new HttpError(503, 'too many large requests at once; try again later');
      size += n;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } catch (err) {
    req.resume(); // discard the rest without holding it
    throw err;
  } finally {
    if (budget) budget.give(size);
  }
}

/** Parses a JSON body, refusing with 400 what is not JSON or nests deeper than `maxDepth`. */
export function parseJsonBody(body: Buffer, what: string, maxDepth = 64): unknown {
  const text = body.toString('utf8');
  if (nestingDepth(text) > maxDepth) throw new HttpError(400, `${what} nests deeper than ${maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, `body is not JSON: expected ${what}`);
  }
}

/** How deep the arrays and objects of a JSON text nest (strings are skipped), without parsing it. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** A percent-encoded path segment decoded, or an HttpError 400 when its encoding is malformed (`%E0%A4%A`). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in the request path');
  }
}
