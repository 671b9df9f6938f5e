// The seam every code host plugs into, as Renovate's platform/types.ts: a factory reads its own
// environment and returns a Host (or null when it is not configured); the server loops over the
// registry in index.ts and knows no host by name.
import type { ConfigPart } from '../config/parts.ts';
import type { ConfigRules } from '../config/rules.ts';
import type { ServerConfig } from '../config/server.ts';
import type { Dispatcher, Reporter, Reverter } from '../engine/effects.ts';
import type { Engine } from '../engine/engine.ts';
import type { Mount } from '../http/mount.ts';
import type { Logger } from '../log.ts';
import type { ChangeLabeler } from '../report/model.ts';

/** What a host factory gets from the server. */
export interface HostContext {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  engine: Engine;
  /** How repo configs are read and checked on this server. */
  rules: ConfigRules;
  log: Logger;
  /** OST_DATA_DIR, resolved. */
  dataDir: string;
  /**
   * Whether what a host accepts may wait on this process's disk before it is handled (the embedded
   * store). With a shared database it may not: a replica's disk holds nothing that matters.
   */
  diskInbox: boolean;
  /** OST_PUBLIC_URL, for links back to the dashboard. */
  publicUrl: string | undefined;
  /** The CI providers this server can dispatch to (`jenkins`, `command:ost`...), for checking repo configs. */
  providers: () => readonly string[];
}

/** A code host the server runs: where its changes come from and where their verdicts go. */
export interface Host {
  /** The `host` of its changes and change ids: `github`, `gerrit`, `git`. */
  readonly id: string;
  /** Posts verdicts and command replies on it. */
  readonly reporter: Reporter;
  /** Opens the revert of a confirmed culprit (`revert.auto`); a host without one cannot. */
  readonly reverter?: Reverter;
  /** How it labels a change in messages and on the dashboard (`#12`, `change 12`). */
  readonly changeLabel: ChangeLabeler;
  /** CI dispatchers that come with it (GitHub Actions comes with the GitHub App), by provider name. */
  readonly dispatchers?: Record<string, Dispatcher>;
  /** Its inbound HTTP endpoint, if it has one (webhooks, events). */
  readonly mount?: Mount;
  /** One line for the start-up log and /healthz: what is connected, and where. */
  readonly summary: string;
  /** Starts what it receives on (a durable inbox left by a previous process), once the HTTP server listens. */
  start?(): Promise<void>;
  /**
   * Starts what watches for changes on its own (polling, an SSH stream): on the replica that writes
   * only, so that each source has one active watcher; stopped when the replica stops writing.
   */
  startSources?(): Promise<void>;
  stopSources?(): void;
  stop?(): Promise<void> | void;
}

export interface HostFactory {
  readonly id: string;
  /** What the host adds to the configs (its own fields and sections), whether or not it is on. */
  readonly config?: ConfigPart;
  /** The host, or null when the environment does not configure it. Throws a clear Error when half-configured. */
  create(ctx: HostContext): Promise<Host | null>;
  /** What to set to turn it on, for the start-up log when it is off. */
  readonly howToEnable: string;
}
