// `ost-gate check`: validates a server config and a repo config without starting anything, with the
// messages `serve` and the code hosts would give. Exit 0 when both are valid, 1 when not.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/errors.ts';
import { checkRunnerKinds, kindOf, providerProblem } from '../ci/index.ts';
import { REPO_CONFIG_FILE } from '../config/repo.ts';
import type { ServerConfig } from '../config/server.ts';
import { configRules } from '../registry.ts';
import { SetupError } from '../config/setup-error.ts';
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';
import { silentLogger } from '../log.ts';
import { notifyProblemsOn } from '../notify/config.ts';
import { notifySetup } from '../notify/setup.ts';
import { sendTest } from './send-test.ts';

export const checkHelp = `Usage: ost-gate check [--server-config FILE] [--repo-config FILE] [--send-test TO]

Validates the server config (default: OST_SERVER_CONFIG), including that each command runner's
program can be run and that the variables its mail and chat settings name are set, and a repo config
(${REPO_CONFIG_FILE}), against the server config when both are given. Prints what is wrong, or "ok".
--send-test TO sends one test message, with the server config's settings, to an address or to a
channel of its channels:. Exit 0 when everything given is valid (and the test message was sent), 1
when not.
`;

export async function runCheck(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand(
    'check',
    argv,
    {
      options: {
        'server-config': { type: 'string' },
        'repo-config': { type: 'string' },
        'send-test': { type: 'string' },
      },
      usage: checkHelp,
    },
    out,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const server = values['server-config'] ?? process.env.OST_SERVER_CONFIG;
  const repo = values['repo-config'];
  if (!server && !repo) throw new UsageError(`check: give --server-config or --repo-config\n\n${checkHelp}`);
  let failed = false;
  const report = async (what: string, check: () => Promise<void>) => {
    try {
      await check();
      out(`ok: ${what}`);
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof SetupError)) throw err;
      out(err.message);
      failed = true;
    }
  };
  let serverConfig: ServerConfig | null = null;
  if (server)
    await report(`server config ${server}`, async () => {
      serverConfig = await configRules.loadServer(server);
      await checkRunnerKinds(serverConfig);
      notifySetup({ env: process.env, config: serverConfig, log: silentLogger, labels: {}, publicUrl: undefined });
    });
  if (repo)
    await report(`repo config ${repo}`, async () => {
      let text: string;
      try {
        text = await readFile(repo, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new ConfigError(repo, [code === 'ENOENT' ? 'the file does not exist' : `cannot read it: ${code}`]);
      }
      const config = configRules.parseRepo(text, repo);
      const provider = config.ci.provider;
      const named = kindOf(provider)?.config.provider?.named === true;
      if (named && serverConfig) {
        const problem = providerProblem(provider, configRules.declaredProviders(serverConfig));
        if (problem) throw new ConfigError(repo, [`ci.provider: ${problem}`]);
      } else if (named)
        out(`note: ci.provider ${provider} is checked against the server's runners only with --server-config`);
      if (serverConfig) {
        const problems = notifyProblemsOn(serverConfig)(config);
        if (problems.length) throw new ConfigError(repo, problems);
      }
    });
  const target = values['send-test'];
  if (target && !serverConfig) throw new UsageError('check: --send-test needs a valid --server-config');
  if (target && serverConfig) {
    const config: ServerConfig = serverConfig;
    await report(`test message`, async () => out(await sendTest(config, target, process.env)));
  }
  return failed ? 1 : 0;
}
