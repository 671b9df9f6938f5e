// The seam every CI runner kind plugs into: how a repo config names it and the fields of `ci:` it
// reads (its config part), where a queue's runs go, how its results come back, and how the server
// starts it. A new kind is one folder under src/ci/ and one line in index.ts.
import type { QueueCi } from '../config/repo.ts';
import type { ConfigPart } from '../config/parts.ts';
import type { CiFactory } from './types.ts';

export interface RunnerKind {
  /** `jenkins`; a named kind's providers are `<id>:<name>` (`command:ost`), each declared in the server config. */
  readonly id: string;
  /** Its part of the configs: the `ci.provider` spelling, its own `ci:` fields and their checks, server sections. */
  readonly config: ConfigPart;
  /** Where a queue's runs go, as a run records it (`jenkins:<job>`, `webhook:<name>`). */
  target(ci: QueueCi): string;
  /** Its jobs post their results to POST /api/ci/callback; the others report their own way (GitHub Actions by workflow_run). */
  readonly callback: boolean;
  /** Its start-up check of the server config (a runner's program is there); throws SetupError. */
  check?(server: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Promise<void>;
  /** What to set on the server for it, for the message when a config names it and the server lacks it (`name`: a named runner's). */
  setup(name: string | undefined): string;
  /** Starts its dispatchers from the environment and server config; none: they come with a host (GitHub Actions with the GitHub App). */
  readonly factory?: CiFactory;
}

/** A string field of a queue's `ci:`, or undefined (the kind's own fields are not typed outside it). */
export function ciField(ci: QueueCi | null | undefined, field: string): string | undefined {
  const value = ci?.[field];
  return typeof value === 'string' ? value : undefined;
}
