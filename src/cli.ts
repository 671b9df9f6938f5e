// The `ost-gate` command: dispatches to the subcommands, each loaded only when called so that a call
// starts fast, and turns usage errors into exit code 2 and set-up errors into exit code 1.
import { readFileSync } from 'node:fs';
import { UsageError } from './cli/errors.ts';
import { SetupError } from './config/setup-error.ts';

type Io = { out: (s: string) => void; err: (s: string) => void };
type Run = (argv: string[], io: Io) => Promise<number>;

const OPERATOR_VERBS = ['pause', 'resume', 'retry', 'dequeue', 'not-culprit', 'priority', 'enqueue'] as const;

const commands: Record<string, Run> = {
  serve: async (argv, { out }) => (await import('./cli/serve.ts')).runServe(argv, out),
  demo: async (argv, { out }) => (await import('./cli/demo.ts')).runDemoCommand(argv, out),
  status: async (argv, { out }) => (await import('./cli/status.ts')).runStatus(argv, out),
  check: async (argv, { out }) => (await import('./cli/check.ts')).runCheck(argv, out),
  simulate: async (argv, { out }) => (await import('./cli/simulate.ts')).runSimulate(argv, out),
  'github-app': async (argv, { out }) => (await import('./cli/github-app.ts')).runGithubApp(argv, out),
  store: async (argv, { out }) => (await import('./cli/store-copy.ts')).runStoreCommand(argv, out),
  ...Object.fromEntries(
    OPERATOR_VERBS.map((verb): [string, Run] => [
      verb,
      async (argv, { out }) => (await import('./cli/operator.ts')).runOperatorCommand(verb, argv, out),
    ]),
  ),
};

const help = `Usage: ost-gate <command> [options]

Commands:
  serve      run the bot: HTTP server, CI runners, code hosts (also: npm start)
  demo       the whole bot on a scripted git repository, end to end (also: npm run demo)
  status     print every queue's state from the data directory
  check      validate a server config and a repo config (.ost-gate.yml)
  simulate   run the queue core against a simulated CI and print metrics
  github-app create a GitHub App from app.yml and write its credentials to .env
  store copy move a store: a data directory into PostgreSQL, or back (--from, --to)
  pause, resume <queue>                      stop or start dispatching (the server's admin API)
  retry, dequeue, not-culprit, enqueue <id>  the slash commands, without a code host
  help       show this text

Options: --version, --help. Run 'ost-gate <command> --help' for a command's options.
`;

/** The package's version, from package.json next to src/ or dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-V' || command === 'version') {
      out(version());
      return 0;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(help);
      return command === undefined ? 2 : 0;
    }
    const run = commands[command];
    if (!run) throw new UsageError(`unknown command '${command}'\n\n${help}`);
    return await run(rest, { out, err });
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ost-gate: ${e.message}`);
      return 2;
    }
    if (e instanceof SetupError) {
      err(`ost-gate: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
