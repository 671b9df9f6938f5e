// The `github-actions` runner kind: `ci.workflow` (and `ci.ref`) name the workflow dispatched in the
// repository; results come back as workflow_run webhooks to the GitHub App, which also brings its
// dispatcher (hosts/github): it has no factory of its own.
import { z } from 'zod';
import type { ConfigProblem } from '../../config/parts.ts';
import type { RunnerKind } from '../kind.ts';
import { githubActionsTarget } from './dispatcher.ts';

/** workflow_dispatch takes at most 25 inputs on github.com and 10 on GitHub Enterprise Server; ost-gate passes 3. */
export const DISPATCH_INPUTS = { github: 25, ghes: 10, ownInputs: 3 } as const;

/** Why `ci.inputs` cannot all go into a workflow_dispatch on that host, or null when they fit. */
export function dispatchInputsProblem(count: number, ghes: boolean): string | null {
  const limit = ghes ? DISPATCH_INPUTS.ghes : DISPATCH_INPUTS.github;
  const room = limit - DISPATCH_INPUTS.ownInputs;
  if (count <= room) return null;
  const host = ghes ? 'GitHub Enterprise Server' : 'github.com';
  const own = `${DISPATCH_INPUTS.ownInputs} of its own (ost_key, ost_refs, ost_changes)`;
  return `got ${count} inputs; ${host} takes at most ${limit} in a workflow_dispatch and ost-gate passes ${own}, so at most ${room} here`;
}

export const githubActionsKind: RunnerKind = {
  id: 'github-actions',
  config: {
    id: 'github-actions',
    provider: { kind: 'github-actions', named: false },
    repo: { ci: { workflow: z.string().min(1).optional(), ref: z.string().min(1).optional() } },
    checkCi(ci) {
      if (ci.provider !== 'github-actions') return [];
      const problems: ConfigProblem[] = [];
      const tooMany = dispatchInputsProblem(Object.keys(ci.inputs).length, false);
      if (tooMany) problems.push({ path: ['inputs'], message: tooMany });
      if (!ci.workflow)
        problems.push({
          path: ['workflow'],
          message: 'required when ci.provider is github-actions (the workflow file name, like ost.yml)',
        });
      return problems;
    },
    checkSharedQueue: (q) =>
      q.ci.provider === 'github-actions' && !q.repository
        ? [{ path: ['repository'], message: 'required when ci.provider is github-actions' }]
        : [],
  },
  target: githubActionsTarget,
  callback: false,
  setup: () => 'the GitHub App (APP_ID)',
};
