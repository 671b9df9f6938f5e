// The repo config (`.github/ost-gate.yml`, `.ost-gate.yml`): schema, defaults, and the mapping to queue settings.
import { z } from 'zod';
import {
  batchSettings,
  defaultSettings as d,
  STRATEGY_NAMES,
  VERDICT_KINDS,
  type QueueSettings,
} from '../core/index.ts';
import { duration } from './duration.ts';
import { ConfigError, describeIssues, parseYamlConfig } from './errors.ts';

/** The repo config file on Gerrit and watched git repositories (GitHub reads `.github/ost-gate.yml`). */
export const REPO_CONFIG_FILE = '.ost-gate.yml';

export const queueName = z
  .string()
  .min(1)
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._/@:-]*$/,
    'a queue name is letters, digits and . _ / @ : - and starts with a letter or digit',
  );
const provider = z
  .string()
  .regex(
    /^(github-actions|jenkins|webhook:[A-Za-z0-9._-]+|command:[A-Za-z0-9._-]+)$/,
    'allowed: github-actions, jenkins, webhook:<name> or command:<name>, where <name> is declared in the server config',
  );

/** The sections a repo config and a shared queue declared in the server config have in common. */
export const queueSections = {
  ci: z
    .object({
      provider,
      workflow: z.string().min(1).optional(),
      ref: z.string().min(1).optional(),
      job: z.string().min(1).optional(),
      inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
      max_parallel: z.number().int().min(1).max(100).default(d.maxParallel),
      timeout: duration.default(d.timeoutMs),
      retries: z.number().int().min(0).max(10).default(d.retries),
      search_width: z.number().int().min(0).max(100).default(d.searchWidth),
      use_idle_runners: z.boolean().default(false),
    })
    .strict(),
  batch: z
    .object({
      max_size: z.number().int().min(1).max(1000).default(d.batchMaxSize),
      // no defaults here: ci.use_idle_runners chooses them (toQueueSettings)
      max_in_flight: z.number().int().min(0).max(100).optional(),
      speculate: z.boolean().optional(),
      hold: z.number().min(0).max(4).optional(),
    })
    .strict()
    .prefault({}),
  flaky: z
    .object({
      confirm: z.number().int().min(0).max(10).default(d.confirm),
      confidence: z.number().min(0).max(0.999999).default(d.confidence),
    })
    .strict()
    .prefault({}),
  strategy: z.enum(STRATEGY_NAMES).default(STRATEGY_NAMES[0]),
  broken: z
    .object({ await_revert: z.boolean().default(d.awaitRevert), recheck: duration.default(d.recheckMs) })
    .strict()
    .prefault({}),
  dependencies: z
    .object({ timeout: duration.default(d.dependencyTimeoutMs) })
    .strict()
    .prefault({}),
  report: z
    .object({
      comment: z.boolean().default(true),
      check: z.boolean().default(true),
      gerrit_label: z.string().min(1).nullable().default(null),
      notify: z.array(z.enum(VERDICT_KINDS)).default(['culprit', 'blocked', 'fixed']),
    })
    .strict()
    .prefault({}),
  commands: z
    .object({
      permission: z
        .union([z.enum(['read', 'triage', 'write', 'maintain', 'admin']), z.array(z.string().min(1)).min(1)])
        .default('write'),
    })
    .strict()
    .prefault({}),
};

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

/** Checks that the CI section names what its provider needs. */
function requireProviderFields(
  ci: { provider: string; workflow?: string | undefined; job?: string | undefined; inputs: Record<string, unknown> },
  ctx: z.RefinementCtx,
) {
  const tooMany = ci.provider === 'github-actions' ? dispatchInputsProblem(Object.keys(ci.inputs).length, false) : null;
  if (tooMany) ctx.addIssue({ code: 'custom', path: ['ci', 'inputs'], message: tooMany });
  if (ci.provider === 'github-actions' && !ci.workflow)
    ctx.addIssue({
      code: 'custom',
      path: ['ci', 'workflow'],
      message: 'required when ci.provider is github-actions (the workflow file name, like ost.yml)',
    });
  if (ci.provider === 'jenkins' && !ci.job)
    ctx.addIssue({
      code: 'custom',
      path: ['ci', 'job'],
      message: 'required when ci.provider is jenkins (the job path, like ovirt-system-tests)',
    });
}

export const repoConfigSchema = z
  .object({
    queue: queueName.optional(),
    branches: z.array(z.string().min(1)).min(1).default(['master', 'main']),
    paths_ignore: z.array(z.string().min(1)).default([]),
    ...queueSections,
  })
  .strict()
  .superRefine((cfg, ctx) => requireProviderFields(cfg.ci, ctx));

/**
 * A queue shared across owners or hosts, declared in the server config: its members (`github:owner/repo`,
 * `gerrit:<host>/<project>`, `git:<name>`, globs allowed) and the settings that win over theirs.
 */
export const sharedQueueSchema = z
  .object({
    members: z.array(z.string().min(1)).min(1),
    /** For github-actions: the repository (`owner/repo`) whose workflow runs the tests. */
    repository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo')
      .optional(),
    ci: queueSections.ci,
    batch: queueSections.batch.optional(),
    flaky: queueSections.flaky.optional(),
    strategy: queueSections.strategy.optional(),
    broken: queueSections.broken.optional(),
    dependencies: queueSections.dependencies.optional(),
    report: queueSections.report.optional(),
    commands: queueSections.commands.optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    requireProviderFields(q.ci, ctx);
    if (q.ci.provider === 'github-actions' && !q.repository)
      ctx.addIssue({ code: 'custom', path: ['repository'], message: 'required when ci.provider is github-actions' });
  });

export type SharedQueue = z.output<typeof sharedQueueSchema>;

export type RepoConfig = z.output<typeof repoConfigSchema>;

/** Validates a parsed config object; throws ConfigError listing every problem. */
export function validateRepoConfig(input: unknown, source = 'repo config'): RepoConfig {
  if (input === null || input === undefined)
    throw new ConfigError(source, ['the file is empty; at least ci.provider is needed']);
  const result = repoConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(source, describeIssues(result.error, input));
  return result.data;
}

/** What each provider needs on the server, for the message when it is missing. */
const PROVIDER_SETUP: Record<string, string> = {
  'github-actions': 'the GitHub App (APP_ID)',
  jenkins: 'JENKINS_URL',
};

/**
 * Why `provider` cannot be used on a server that has `available`, or null when it can: a `command:`
 * or `webhook:` name the server config does not declare, or a CI the server is not set up for.
 */
export function providerProblem(provider: string, available: readonly string[]): string | null {
  if (available.includes(provider)) return null;
  const has = available.length ? `it has ${[...available].sort().join(', ')}` : 'it has none';
  const [kind, name] = provider.split(':') as [string, string | undefined];
  const fix = name
    ? `declare ${name} under ${kind === 'command' ? 'runners' : 'webhooks'}: in the server config, or name one it has`
    : `set ${PROVIDER_SETUP[kind] ?? kind} on the server, or name one it has`;
  return `got ${JSON.stringify(provider)}; this server cannot run tests there (${has}): ${fix}`;
}

/** Where the queue's runs go; set from the repo config. */
export interface QueueCi {
  provider: string;
  workflow?: string;
  ref?: string;
  job?: string;
  inputs?: Record<string, string | number | boolean>;
  /** The repository a github-actions queue dispatches in (`owner/repo`). */
  repository?: string;
}

/** Where a queue's runs go, as a run records it: `github-actions:<repo>:<workflow>`, `jenkins:<job>`, `webhook:<name>`. */
export function dispatchTarget(ci: QueueCi | null | undefined): string {
  if (!ci) return 'none';
  if (ci.provider === 'github-actions') return `github-actions:${ci.repository ?? ''}:${ci.workflow ?? ''}`;
  if (ci.provider === 'jenkins') return `jenkins:${ci.job ?? ''}`;
  return ci.provider;
}

/** Parses YAML text and validates it. */
export function parseRepoConfig(text: string, source = '.ost-gate.yml'): RepoConfig {
  return validateRepoConfig(parseYamlConfig(text, source), source);
}

/** Where a queue's runs go, from its config (`repository`: the GitHub repo a workflow is dispatched in). */
export function ciTarget(cfg: RepoConfig, repository?: string): QueueCi {
  const { provider, workflow, ref, job, inputs } = cfg.ci;
  return {
    provider,
    ...(workflow ? { workflow } : {}),
    ...(ref ? { ref } : {}),
    ...(job ? { job } : {}),
    inputs,
    ...(repository ? { repository } : {}),
  };
}

/**
 * The numeric settings the core needs. `ci.use_idle_runners` changes the defaults of the batch
 * settings (spare runners spent on speed); a batch setting given in the file wins over either.
 */
export function toQueueSettings(cfg: RepoConfig): Partial<QueueSettings> {
  return {
    maxParallel: cfg.ci.max_parallel,
    timeoutMs: cfg.ci.timeout,
    retries: cfg.ci.retries,
    searchWidth: cfg.ci.search_width,
    batchMaxSize: cfg.batch.max_size,
    ...batchSettings(cfg.ci.use_idle_runners, {
      batchMaxInFlight: cfg.batch.max_in_flight,
      speculate: cfg.batch.speculate,
      holdShare: cfg.batch.hold,
    }),
    confirm: cfg.flaky.confirm,
    confidence: cfg.flaky.confidence,
    strategy: cfg.strategy,
    dependencyTimeoutMs: cfg.dependencies.timeout,
    awaitRevert: cfg.broken.await_revert,
    recheckMs: cfg.broken.recheck,
  };
}
