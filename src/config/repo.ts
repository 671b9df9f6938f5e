// The repo config (`.github/ost-gate.yml`, `.ost-gate.yml`): the sections every queue has, their
// defaults, and the mapping to queue settings. The fields a CI runner kind or a code host adds come
// from its config part (parts.ts); rules.ts composes the schemas.
import { z } from 'zod';
import {
  BATCHING_NAMES,
  batchSettings,
  type BatchingName,
  defaultSettings as d,
  STRATEGY_NAMES,
  VERDICT_KINDS,
  type QueueSettings,
} from '../core/index.ts';
import { duration } from './duration.ts';
import type { CiSectionView, ConfigPart, RepoSection } from './parts.ts';

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
/** The fields of `ci:` every runner kind has; each kind adds its own (config/parts.ts). */
const commonCi = {
  inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  max_parallel: z.number().int().min(1).max(100).default(d.maxParallel),
  timeout: duration.default(d.timeoutMs),
  retries: z.number().int().min(0).max(10).default(d.retries),
  search_width: z.number().int().min(0).max(100).default(d.searchWidth),
  use_idle_runners: z.boolean().default(false),
};

/** The fields of `report:` every host has; a host adds its own. */
const commonReport = {
  comment: z.boolean().default(true),
  check: z.boolean().default(true),
  notify: z.array(z.enum(VERDICT_KINDS)).default(['culprit', 'blocked', 'fixed']),
};

/** The sections whose fields are the same whatever the runner kind and the host. */
const fixedSections = {
  batch: z
    .object({
      max_size: z.number().int().min(1).max(1000).default(d.batchMaxSize),
      // no defaults here: the batching policy chooses them (toQueueSettings)
      policy: z.enum(BATCHING_NAMES).optional(),
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
      // a test whose own flake rate is above this no longer stops the line; null: never quarantine
      quarantine: z.number().gt(0).max(1).nullable().default(d.quarantine),
      // a run that failed only in tests known to flake, each failure at least this likely a flake,
      // tells its changes a provisional passed at once; null: wait for the run that makes sure
      early_pass: z.number().min(0.5).max(0.999999).nullable().default(d.earlyPass),
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
  // opening the revert of a confirmed culprit (revert/plan.ts): off unless asked
  revert: z
    .object({
      auto: z.boolean().default(false),
      confidence: z.number().min(0).max(0.999999).default(0.9999),
      max_age: duration.default(24 * 3_600_000),
      daily_limit: z.number().int().min(0).max(100).default(4),
      submit: z.boolean().default(false),
    })
    .strict()
    .prefault({}),
  // `/ost try` on open changes (core/tries.ts): runs at once, on runners the queue leaves idle
  try: z
    .object({ max_parallel: z.number().int().min(0).max(100).default(d.tryMaxParallel) })
    .strict()
    .prefault({}),
};

/** The parts of the repo config and of a shared queue a set of config parts gives (rules.ts composes them). */
export function queueSectionsWith(parts: readonly ConfigPart[]) {
  return {
    ci: z.object({ provider: providerSchema(parts), ...commonCi, ...fieldsOf(parts, 'ci') }).strict(),
    ...fixedSections,
    report: z
      .object({ ...commonReport, ...fieldsOf(parts, 'report') })
      .strict()
      .prefault({}),
    commands: z.object(fieldsOf(parts, 'commands')).strict().prefault({}),
  };
}

/** `ci.provider`: one of the runner kinds the parts declare, a named kind as `<kind>:<name>`. */
function providerSchema(parts: readonly ConfigPart[]) {
  const kinds = parts.flatMap((p) => (p.provider ? [p.provider] : []));
  const spelled = kinds.map((k) => (k.named ? `${k.kind}:<name>` : k.kind));
  const alternatives = kinds.map((k) => (k.named ? `${k.kind}:[A-Za-z0-9._-]+` : k.kind));
  const allowed = `${spelled.slice(0, -1).join(', ')}${spelled.length > 1 ? ' or ' : ''}${spelled.at(-1) ?? ''}`;
  return z
    .string()
    .regex(
      new RegExp(`^(${alternatives.join('|')})$`),
      `allowed: ${allowed}${kinds.some((k) => k.named) ? ', where <name> is declared in the server config' : ''}`,
    );
}

/** The fields the parts add to a section; a field two parts add takes the values either allows. */
function fieldsOf(parts: readonly ConfigPart[], section: RepoSection): z.ZodRawShape {
  const fields: Record<string, z.ZodType> = {};
  for (const part of parts)
    for (const [name, schema] of Object.entries(part.repo?.[section] ?? {})) {
      const field = schema as z.ZodType;
      fields[name] = fields[name] ? z.union([fields[name], field]) : field;
    }
  return fields;
}

/** `batch.policy`, or `use-idle-runners` when the older `ci.use_idle_runners: true` says so. */
export function batchingPolicyOf(cfg: Pick<QueueSections, 'ci' | 'batch'>): BatchingName {
  return cfg.batch.policy ?? (cfg.ci.use_idle_runners ? 'use-idle-runners' : BATCHING_NAMES[0]);
}

/** `ci.use_idle_runners: true` is `batch.policy: use-idle-runners`: a config may not say both ways and disagree. */
function checkBatching(
  cfg: { ci: { use_idle_runners: boolean }; batch?: { policy?: string | undefined } },
  ctx: z.RefinementCtx,
) {
  const policy = cfg.batch?.policy;
  if (cfg.ci.use_idle_runners && policy && policy !== 'use-idle-runners')
    ctx.addIssue({
      code: 'custom',
      path: ['batch', 'policy'],
      message: `ci.use_idle_runners: true asks for use-idle-runners and this for ${policy}: keep one of the two`,
    });
}

/** The parts' own checks of a `ci:` section, added to the issues of the section at `path`. */
export function checkCiWith(parts: readonly ConfigPart[], ci: CiSectionView, ctx: z.RefinementCtx): void {
  for (const part of parts)
    for (const problem of part.checkCi?.(ci) ?? [])
      ctx.addIssue({ code: 'custom', path: ['ci', ...problem.path], message: problem.message });
}

/** The repo config's own fields around the queue sections. */
const repoFields = {
  queue: queueName.optional(),
  branches: z.array(z.string().min(1)).min(1).default(['master', 'main']),
  paths_ignore: z.array(z.string().min(1)).default([]),
};

/** The repo config schema with the parts' fields and checks. */
export function repoConfigSchemaWith(parts: readonly ConfigPart[]) {
  return z
    .object({ ...repoFields, ...queueSectionsWith(parts) })
    .strict()
    .superRefine((cfg, ctx) => {
      checkCiWith(parts, cfg.ci as CiSectionView, ctx);
      checkBatching(cfg, ctx);
    });
}

/**
 * A queue shared across owners or hosts, declared in the server config: its members (`github:owner/repo`,
 * `gerrit:<host>/<project>`, `git:<name>`, globs allowed) and the settings that win over theirs.
 */
export function sharedQueueSchemaWith(parts: readonly ConfigPart[]) {
  const sections = queueSectionsWith(parts);
  return z
    .object({
      members: z.array(z.string().min(1)).min(1),
      /** For github-actions: the repository (`owner/repo`) whose workflow runs the tests. */
      repository: z
        .string()
        .regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo')
        .optional(),
      ci: sections.ci,
      batch: sections.batch.optional(),
      flaky: sections.flaky.optional(),
      strategy: sections.strategy.optional(),
      broken: sections.broken.optional(),
      dependencies: sections.dependencies.optional(),
      report: sections.report.optional(),
      commands: sections.commands.optional(),
    })
    .strict()
    .superRefine((q, ctx) => {
      checkCiWith(parts, q.ci as CiSectionView, ctx);
      checkBatching(q, ctx);
      for (const part of parts)
        for (const problem of part.checkSharedQueue?.({ ci: q.ci as CiSectionView, repository: q.repository }) ?? [])
          ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    });
}

/** The fields a part adds to a section, as code outside the part sees them: by name, of unknown type. */
type PartFields = { readonly [field: string]: unknown };

/** The types of the sections without the parts' fields. */
type BaseSections = { [K in keyof typeof fixedSections]: z.output<(typeof fixedSections)[K]> } & {
  ci: { provider: string } & z.output<z.ZodObject<typeof commonCi>>;
  report: z.output<z.ZodObject<typeof commonReport>>;
};

/** The sections every queue has, with the fields the parts add as PartFields (each part reads its own). */
export interface QueueSections extends Omit<BaseSections, 'ci' | 'report'> {
  ci: BaseSections['ci'] & PartFields;
  report: BaseSections['report'] & PartFields;
  commands: PartFields;
}

/** A valid repo config, defaults filled in. */
export interface RepoConfig extends QueueSections {
  queue?: string | undefined;
  branches: string[];
  paths_ignore: string[];
}

/** A shared queue as the server config declares it. */
export interface SharedQueue extends Partial<Omit<QueueSections, 'ci'>> {
  members: string[];
  repository?: string | undefined;
  ci: QueueSections['ci'];
}

/** Where the queue's runs go, set from the repo config: its `ci:` fields but the queue settings. */
export interface QueueCi extends PartFields {
  provider: string;
  inputs?: Record<string, string | number | boolean>;
  /** The repository a github-actions queue dispatches in (`owner/repo`). */
  repository?: string;
}

/** Where a queue's runs go, from its config (`repository`: the GitHub repo a workflow is dispatched in). */
export function ciTarget(cfg: RepoConfig, repository?: string): QueueCi {
  const { max_parallel: _p, timeout: _t, retries: _r, search_width: _w, use_idle_runners: _u, ...target } = cfg.ci;
  const set = Object.fromEntries(Object.entries(target).filter(([, v]) => v !== undefined));
  return { ...set, provider: cfg.ci.provider, ...(repository ? { repository } : {}) };
}

/**
 * The numeric settings the core needs. The batching policy (`batch.policy`, or the older
 * `ci.use_idle_runners`) sets the defaults of the batch settings; one given in the file wins.
 */
export function toQueueSettings(cfg: RepoConfig): Partial<QueueSettings> {
  const policy = batchingPolicyOf(cfg);
  return {
    maxParallel: cfg.ci.max_parallel,
    timeoutMs: cfg.ci.timeout,
    retries: cfg.ci.retries,
    searchWidth: cfg.ci.search_width,
    batchMaxSize: cfg.batch.max_size,
    batching: policy,
    ...batchSettings(policy, {
      batchMaxInFlight: cfg.batch.max_in_flight,
      speculate: cfg.batch.speculate,
      holdShare: cfg.batch.hold,
    }),
    confirm: cfg.flaky.confirm,
    confidence: cfg.flaky.confidence,
    quarantine: cfg.flaky.quarantine,
    earlyPass: cfg.flaky.early_pass,
    strategy: cfg.strategy,
    dependencyTimeoutMs: cfg.dependencies.timeout,
    awaitRevert: cfg.broken.await_revert,
    recheckMs: cfg.broken.recheck,
    tryMaxParallel: cfg.try.max_parallel,
  };
}
