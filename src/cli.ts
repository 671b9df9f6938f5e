// The `ost-gate` command: dispatches to the subcommands and turns usage errors into exit code 2.
import { runSimulate, simulateHelp } from './cli/simulate.ts';
import { UsageError } from './cli/errors.ts';

const help = `Usage: ost-gate <command> [options]

Commands:
  simulate   run the queue core against a simulated CI and print metrics
  help       show this text

Run 'ost-gate <command> --help' for a command's options.
`;

export async function main(argv: string[], out: (s: string) => void = (s) => console.log(s), err: (s: string) => void = (s) => console.error(s)): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'simulate':
        return await runSimulate(rest, out);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(help);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${command}'\n\n${help}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`ost-gate: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
export { simulateHelp };
