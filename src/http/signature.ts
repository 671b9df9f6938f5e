// HMAC-SHA256 request signatures (`sha256=<hex>`) and secret tokens, compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** True when `given` equals the secret `expected`, taking the same time wherever they differ. */
export function secretEquals(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a); // same work either way
    return false;
  }
  return timingSafeEqual(a, b);
}

export function sign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `header` is the signature of `body` with `secret`. Never short-circuits on content. */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  return secretEquals(sign(secret, body), header?.trim());
}
