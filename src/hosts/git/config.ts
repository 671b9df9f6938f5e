// What the git host adds to the server config: `git:`, the repositories to watch by polling.
import { z } from 'zod';
import { duration } from '../../config/duration.ts';
import { serverName, type ConfigPart } from '../../config/parts.ts';

const watchedRepository = z
  .object({
    name: serverName,
    url: z.string().min(1),
    branch: z.string().min(1).default('master'),
    interval: duration.default(30_000),
    notes: z.boolean().default(false),
  })
  .strict();

/** A repository the server config lists under `git:`. */
export type WatchedRepository = z.output<typeof watchedRepository>;

export const gitConfigPart: ConfigPart = { id: 'git', server: { git: z.array(watchedRepository).default([]) } };

/** The repositories a server config lists under `git:`. */
export function watchedRepositories(server: Readonly<Record<string, unknown>>): WatchedRepository[] {
  return (server.git ?? []) as WatchedRepository[];
}
