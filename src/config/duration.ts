// Durations in config files: `90s`, `10m`, `3h`, `1d`, or a number of milliseconds.
import ms from 'ms';
import { z } from 'zod';

export const duration = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  let parsed: number | undefined;
  try {
    // ms throws on an empty or over-long string instead of answering undefined
    parsed = ms(value.trim() as ms.StringValue);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration; use a number with s, m, h or d, like 90m or 3h`,
    });
    return z.NEVER;
  }
  return parsed;
});
