// The CI runner kinds the server knows, and what the rest of the server asks of them by a queue's
// provider: where its runs go, whether its results come by callback, why a server cannot run it.
// A new kind is one folder under src/ci/ with its kind.ts, and one line here.
import type { QueueCi } from '../config/repo.ts';
import { commandKind } from './command/kind.ts';
import { githubActionsKind } from './github-actions/kind.ts';
import { jenkinsKind } from './jenkins/kind.ts';
import type { RunnerKind } from './kind.ts';
import type { CiFactory } from './types.ts';
import { webhookKind } from './webhook/kind.ts';

export const runnerKinds: readonly RunnerKind[] = [githubActionsKind, jenkinsKind, webhookKind, commandKind];

/** The factories of the kinds that start their own dispatchers, in the order the server starts them. */
export const ciFactories: readonly CiFactory[] = runnerKinds.flatMap((k) => (k.factory ? [k.factory] : []));

/** The kinds' start-up checks of the server config (a command runner's program is there); throws SetupError. */
export async function checkRunnerKinds(
  server: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  for (const kind of runnerKinds) await kind.check?.(server, env);
}

/** The kind of a provider (`command:ost` is a command runner), or undefined for one no kind has. */
export function kindOf(provider: string): RunnerKind | undefined {
  const id = provider.split(':')[0];
  return runnerKinds.find((k) => k.id === id);
}

/** Where a queue's runs go, as a run records it: `github-actions:<repo>:<workflow>`, `jenkins:<job>`, `webhook:<name>`. */
export function dispatchTarget(ci: QueueCi | null | undefined): string {
  if (!ci) return 'none';
  return kindOf(ci.provider)?.target(ci) ?? ci.provider;
}

/** Whether runs sent to `target` (a run's recorded target, or a provider) report by POST /api/ci/callback. */
export function reportsByCallback(target: string): boolean {
  return kindOf(target)?.callback ?? false;
}

/**
 * Why `provider` cannot be used on a server that has `available`, or null when it can: a `command:`
 * or `webhook:` name the server config does not declare, or a CI the server is not set up for.
 */
export function providerProblem(provider: string, available: readonly string[]): string | null {
  if (available.includes(provider)) return null;
  const has = available.length ? `it has ${[...available].sort().join(', ')}` : 'it has none';
  const [kind, name] = provider.split(':') as [string, string | undefined];
  const setup = kindOf(provider)?.setup(name) ?? kind;
  const fix = name ? `${setup}, or name one it has` : `set ${setup} on the server, or name one it has`;
  return `got ${JSON.stringify(provider)}; this server cannot run tests there (${has}): ${fix}`;
}

export { ciField, type RunnerKind } from './kind.ts';
export type { CiContext, CiFactory, CiProvider } from './types.ts';
