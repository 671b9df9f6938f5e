// The seam a runner kind's factory plugs into: it reads the environment and the server config and
// returns the dispatchers it provides (by provider name, as `ci.provider` names them), or null.
import type { ServerConfig } from '../config/server.ts';
import type { Dispatcher } from '../engine/effects.ts';
import type { Logger } from '../log.ts';

export interface CiContext {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  log: Logger;
  /** OST_DATA_DIR, resolved: command runners work under it. */
  dataDir: string;
  /** Keeps the last lines of a run's output (the store's run logs). */
  keepRunLog(key: string, text: string): Promise<void>;
  /** OST_PUBLIC_URL + /api/ci/callback, when the server has a public URL. */
  callbackUrl: string | undefined;
}

export interface CiProvider {
  /** By provider name: `jenkins`, `webhook:<name>`, `command:<name>`. */
  dispatchers: Record<string, Dispatcher>;
  /** One line for the start-up log: what is connected. */
  summary: string;
  /** Stops what runs on its own (polling, child processes) at shutdown. */
  stop?(): Promise<void> | void;
}

export interface CiFactory {
  readonly id: string;
  create(ctx: CiContext): CiProvider | null;
  /** What to set to turn it on, for the start-up log when it is off. */
  readonly howToEnable: string;
}
