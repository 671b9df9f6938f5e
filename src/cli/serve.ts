// `ost-gate serve`: reads the environment and OST_SERVER_CONFIG, starts the server, stops cleanly on SIGINT/SIGTERM.
import { ConfigError } from '../config/errors.ts';
import { MissingConfigError } from '../config/server.ts';
import { configRules } from '../registry.ts';
import { createLogger } from '../log.ts';
import { startServer } from '../serve.ts';
import { checkLogLevel } from '../startup/checks.ts';
import { SetupError } from '../config/setup-error.ts';
import { parseCommand } from './args.ts';

export const serveHelp = `Usage: ost-gate serve

Starts the HTTP server (PORT, default 3000) with the engine, the CI runners and the code hosts.
Environment: OST_DATA_DIR (default ./data), OST_SERVER_CONFIG (YAML: runners, git repos),
OST_PUBLIC_URL, OST_CALLBACK_SECRET, LOG_LEVEL; GitHub: APP_ID, PRIVATE_KEY, WEBHOOK_SECRET;
Gerrit: GERRIT_URL, GERRIT_USERNAME, GERRIT_PASSWORD, GERRIT_EVENTS_TOKEN.
`;

export async function runServe(argv: string[], out: (s: string) => void): Promise<number> {
  // it takes no arguments: the environment configures it
  if (!parseCommand('serve', argv, { options: {}, usage: serveHelp }, out)) return 0;
  checkLogLevel(process.env);
  const log = createLogger();
  let config;
  try {
    config = await configRules.loadServer(process.env.OST_SERVER_CONFIG);
  } catch (err) {
    if (err instanceof MissingConfigError)
      throw new SetupError(
        `OST_SERVER_CONFIG=${err.path} does not exist: create it, or unset OST_SERVER_CONFIG to start without one`,
      );
    if (err instanceof ConfigError) throw new SetupError(`OST_SERVER_CONFIG: ${err.message}`);
    throw err;
  }
  const server = await startServer({ env: process.env, config, log });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('shutting down');
  await server.stop();
  return 0;
}
