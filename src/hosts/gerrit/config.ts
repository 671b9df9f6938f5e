// What the Gerrit host adds to the repo config: `report.gerrit_label` (the label a verdict votes on)
// and `commands.permission` as the Gerrit groups whose members may run write commands.
import { z } from 'zod';
import type { ConfigPart } from '../../config/parts.ts';
import type { QueueSections } from '../../config/repo.ts';

/** Who may run write commands when the config names no group. */
export const DEFAULT_GROUPS = ['Administrators'];

export const gerritConfigPart: ConfigPart = {
  id: 'gerrit',
  repo: {
    report: { gerrit_label: z.string().min(1).nullable().default(null) },
    commands: { permission: z.array(z.string().min(1)).min(1) },
  },
};

/** The Gerrit settings of a config: the label to vote on (or null), and the groups write commands need. */
export function gerritSettings(config: Pick<QueueSections, 'report' | 'commands'> | null | undefined): {
  label: string | null;
  groups: string[];
} {
  const label = config?.report.gerrit_label;
  const groups = config?.commands.permission;
  return {
    label: typeof label === 'string' ? label : null,
    groups: Array.isArray(groups) ? (groups as string[]) : DEFAULT_GROUPS,
  };
}
