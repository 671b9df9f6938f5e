// `runners:` in the server config: the command runners, each a program and its arguments (never a
// shell line), its directory and environment.
import { z } from 'zod';
import { serverName } from '../../config/parts.ts';
import type { CommandRunner } from './dispatcher.ts';

/** `runners:` in the server config: each runner's program and arguments, its directory and environment. */
export const runnersSection = z
  .record(
    serverName,
    z
      .object({
        command: z.array(z.string().min(1)).min(1, 'give the program and its arguments as a list; no shell is used'),
        workdir: z.string().min(1).optional(),
        env: z.record(z.string(), z.string()).default({}),
      })
      .strict(),
  )
  .default({});

/** The runners a server config declares. */
export function commandRunners(server: Readonly<Record<string, unknown>>): Record<string, CommandRunner> {
  return (server.runners ?? {}) as Record<string, CommandRunner>;
}
