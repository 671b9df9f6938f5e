// Turns a queue name (which comes from repo config or a host) into a safe, unique file name.
import { createHash } from 'node:crypto';

/**
 * A file-name-safe slug for `name`: letters, digits, `.`, `_` and `-` only, never starting with a
 * dot and never holding `..`, at most 60 readable characters, plus 12 hex digits of the name's SHA-256 so that two names
 * never share a file (`a/b` and `a_b` differ) and `..` cannot escape the directory.
 */
export function safeSlug(name: string): string {
  const readable = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 60);
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 12);
  return `${readable || 'queue'}-${hash}`;
}
