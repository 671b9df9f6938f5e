// The command runners' start-up check: each program a runner names exists and may be run, so that
// a typo in the server config stops the server at start with one line, not every run later.
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { SetupError } from '../../config/setup-error.ts';
import { commandRunners } from './runners.ts';

/** Each command runner's program exists and may be run: found on PATH, or at its path from its workdir. */
export async function checkRunnerPrograms(
  config: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  for (const [name, runner] of Object.entries(commandRunners(config))) {
    const program = runner.command[0]!;
    const candidates = program.includes('/')
      ? [isAbsolute(program) ? program : resolve(runner.workdir ?? process.cwd(), program)]
      : (env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, program));
    let found = false;
    for (const candidate of candidates) {
      if (
        await access(candidate, fsConstants.X_OK).then(
          () => stat(candidate).then((s) => s.isFile()),
          () => false,
        )
      ) {
        found = true;
        break;
      }
    }
    if (!found)
      throw new SetupError(
        program.includes('/')
          ? `runners.${name}.command: ${program} does not exist or is not executable: ` +
              `fix the path (relative paths start at the runner's workdir) or chmod +x it`
          : `runners.${name}.command: ${program} is not found on PATH: install it, or give its full path in the server config`,
      );
  }
}
