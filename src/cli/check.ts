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

export const checkHelp = `Usage: ost-gate check [--server-config FILE] [--repo-config FILE]

Validates the server config (default: OST_SERVER_CONFIG), including that each command runner's
program can be run, and a repo config (${REPO_CONFIG_FILE}). Prints what is wrong, or "ok".
Exit 0 when everything given is valid, 1 when not.
`;

export async function runCheck(argv: string[], out: (s: string) => void): Promise<number> {
  const parsed = parseCommand(
    'check',
    argv,
    { options: { 'server-config': { type: 'string' }, 'repo-config': { type: 'string' } }, usage: checkHelp },
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
    });
  return failed ? 1 : 0;
}
