// Emit helpers: notices and log lines a step adds to its effects, and small text helpers.
// They change no state; they only append to `ctx.effects`.
import type { StepContext } from './context.ts';

export function notice(
  ctx: StepContext,
  level: 'info' | 'warn' | 'error',
  code: string,
  message: string,
  change?: string,
): void {
  ctx.effects.push(
    change ? { type: 'notice', level, code, message, change } : { type: 'notice', level, code, message },
  );
}

export function log(ctx: StepContext, level: 'debug' | 'info' | 'warn', message: string): void {
  ctx.effects.push({ type: 'log', level, message });
}

/** The first ten characters of a sha, for messages. */
export function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 10) : '(none)';
}

/** A copy of `o` without its undefined fields, so that stored records stay small. */
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
