// What the GitHub host adds to the repo config: `report.check` (the "ost-gate" check run on the
// pull request) and `commands.permission` as a repository role.
import { z } from 'zod';
import type { ConfigPart } from '../../config/parts.ts';
import type { QueueSections } from '../../config/repo.ts';

/** Repository roles, weakest first, as `commands.permission` names the least one for write commands. */
export const GITHUB_ROLES = ['read', 'triage', 'write', 'maintain', 'admin'] as const;

const fields = {
  report: { check: z.boolean().default(true) },
  commands: { permission: z.enum(GITHUB_ROLES).default('write') },
};

export const githubConfigPart: ConfigPart = { id: 'github', repo: fields };

/** The GitHub settings of a config (defaults without one): whether to keep the check run, and the role write commands need. */
export function githubSettings(config: Pick<QueueSections, 'report' | 'commands'> | null | undefined): {
  check: boolean;
  permission: string;
} {
  const permission = config?.commands.permission;
  return {
    check: config?.report.check !== false,
    permission: typeof permission === 'string' ? permission : 'write',
  };
}
