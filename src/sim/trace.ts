// Reads a recorded change stream for `ost-gate simulate --trace`: a JSON array in merge order.
import { z } from 'zod';

export const traceSchema = z
  .array(
    z
      .object({
        id: z.string().min(1),
        at: z.number().nonnegative(),
        culprit: z.boolean().optional(),
        fixes: z.string().min(1).optional(),
      })
      .strict(),
  )
  .min(1, 'a trace needs at least one change');

export type TraceEntry = z.infer<typeof traceSchema>[number];

/** Parses and checks a trace: unique ids, times that never go back, fixes that name an earlier culprit. */
export function parseTrace(text: string, source = 'trace'): TraceEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = traceSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  at ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new Error(`${source}: not a valid trace:\n${issues}`);
  }
  const seen = new Map<string, TraceEntry>();
  let last = 0;
  for (const [i, e] of parsed.data.entries()) {
    if (seen.has(e.id)) throw new Error(`${source}: entry ${i}: id ${e.id} appears twice`);
    if (e.at < last)
      throw new Error(
        `${source}: entry ${i} (${e.id}): at ${e.at} is earlier than the entry before it; a trace is in merge order`,
      );
    if (e.fixes !== undefined) {
      const target = seen.get(e.fixes);
      if (!target) throw new Error(`${source}: entry ${i} (${e.id}) fixes ${e.fixes}, which is not an earlier entry`);
      if (!target.culprit)
        throw new Error(`${source}: entry ${i} (${e.id}) fixes ${e.fixes}, which is not marked culprit`);
    }
    last = e.at;
    seen.set(e.id, e);
  }
  return parsed.data;
}
