// One way to read a subcommand's options: strict (an unknown option is a usage error, exit 2, shown
// with the command's usage), `--help`/`-h` on every command, and positionals only where asked for.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;

/**
 * The parsed options and positionals, or null when `--help` was asked for (the usage is printed
 * then, and the command should end with exit 0).
 */
export function parseCommand<T extends Options>(
  command: string,
  argv: string[],
  spec: { options: T; usage: string; positionals?: boolean; negatives?: boolean },
  out: (s: string) => void,
) {
  const config = {
    args: argv,
    options: { ...spec.options, ...HELP },
    strict: true,
    allowPositionals: spec.positionals ?? false,
    allowNegative: spec.negatives ?? false,
  } as const;
  let parsed;
  try {
    parsed = parseArgs<{ args: string[]; options: T & typeof HELP; strict: true; allowPositionals: boolean }>(config);
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message}\n\n${spec.usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    out(spec.usage);
    return null;
  }
  return parsed;
}
