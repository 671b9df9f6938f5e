// The `ost-gate` command: dispatches to the subcommands and turns usage errors into exit code 2.
import { parseArgs } from 'node:util';
import { runSimulate } from './cli/simulate.ts';
import { UsageError } from './cli/errors.ts';
import { runServe } from './cli/serve.ts';
import { runStatus } from './cli/status.ts';
import { runOperatorCommand } from './cli/operator.ts';
import type { CommandVerb } from './core/index.ts';

const help = `Usage: ost-gate <command> [options]

Commands:
  serve      run the bot: HTTP server, CI runners, code hosts (also: npm start)
  demo       the whole bot on a scripted git repository, end to end (also: npm run demo)
  status     print every queue's state from the data directory
  simulate   run the queue core against a simulated CI and print metrics
  pause, resume <queue>                      stop or start dispatching (the server's admin API)
  retry, dequeue, not-culprit, enqueue <id>  the slash commands, without a code host
  help       show this text

Run 'ost-gate <command> --help' for a command's options.
`;

export async function main(
  argv: string[],
  out: (s: string) => void = (s) => console.log(s),
  err: (s: string) => void = (s) => console.error(s),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'simulate':
        return await runSimulate(rest, out);
      case 'serve':
        return await runServe(rest, out);
      case 'status':
        return await runStatus(rest, out);
      case 'pause':
      case 'resume':
      case 'retry':
      case 'dequeue':
      case 'not-culprit':
      case 'enqueue':
        return await runOperatorCommand(command satisfies CommandVerb, rest, out);
      case 'demo': {
        let values;
        try {
          ({ values } = parseArgs({
            args: rest,
            options: { keep: { type: 'boolean', default: false }, port: { type: 'string' } },
            strict: true,
          }));
        } catch (e) {
          throw new UsageError(`demo: ${(e as Error).message}; usage: ost-gate demo [--keep] [--port N]`);
        }
        const { runDemo } = await import('./demo.ts');
        return await runDemo({
          keep: values.keep ?? false,
          ...(values.port ? { port: Number(values.port) } : {}),
          out,
        });
      }
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
