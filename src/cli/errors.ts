// Errors the CLI reports as a usage problem (exit code 2) rather than a crash.
import type { z } from 'zod';

export class UsageError extends Error {}

/** One readable line per problem: the option or key, what was given, what is allowed. */
export function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}` : 'input'}: ${i.message}`).join('; ');
}
