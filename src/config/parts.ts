// What a CI runner kind or a code host brings to the configs, as Zuul's drivers bring their own
// schemas: fields of the repo config's `ci:`, `report:` and `commands:` sections, sections of the
// server config, and checks across fields. The config rules (rules.ts) compose the parts they are
// given; config/ itself knows no kind and no host by name.
import { z } from 'zod';

/** A name in the server config (a runner, a watched repository): it becomes part of paths and provider names. */
export const serverName = z.string().regex(/^[A-Za-z0-9._-]+$/, 'a name is letters, digits, . _ and -');

/** The repo config sections a part may add fields to. */
export type RepoSection = 'ci' | 'report' | 'commands';

/** A problem a part finds in a config: where, and what is wrong (as `describeIssues` says it). */
export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

/** The `ci:` section as a part's check sees it: the common fields and every part's own. */
export interface CiSectionView {
  provider: string;
  inputs: Record<string, string | number | boolean>;
  readonly [field: string]: unknown;
}

export interface ConfigPart {
  /** Who brings it (`jenkins`, `gerrit`): named in the error when two parts disagree. */
  readonly id: string;
  /** For a CI runner kind: how a repo config names it in `ci.provider` (`jenkins`, or `command:<name>` when named). */
  readonly provider?: { readonly kind: string; readonly named: boolean };
  /** The fields it adds to repo config sections; two parts adding one field accept either's values. */
  readonly repo?: Partial<Record<RepoSection, z.ZodRawShape>>;
  /** Problems of a `ci:` section that its fields alone cannot say (a field its provider needs). */
  checkCi?(ci: CiSectionView): ConfigProblem[];
  /** Problems of a shared queue declared in the server config (a field outside `ci:` its provider needs). */
  checkSharedQueue?(queue: { ci: CiSectionView; repository?: string | undefined }): ConfigProblem[];
  /** Sections it adds to the server config (`runners:`, `git:`), each with its default. */
  readonly server?: z.ZodRawShape;
  /** The providers its server config sections declare (`command:ost`), for checking shared queues. */
  declared?(server: Readonly<Record<string, unknown>>): string[];
}
