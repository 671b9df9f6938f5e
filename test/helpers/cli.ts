// Running the CLI in tests: in-process through main() with its output captured, or `ost-gate serve`
// as a process of its own (with a minimal environment), its output and exit code collected.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../src/cli.ts';

const root = join(import.meta.dirname, '..', '..');

/** `ost-gate <argv>` in this process: its exit code and what it printed on each stream. */
export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** `ost-gate serve` as a process with `env` (plus PATH, HOME and LOG_LEVEL=warn), and `nodeArgs` for node. */
export function serveProcess(env: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'ost-gate.js'), 'serve'], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((ok) => child.once('close', (code) => ok(code)));
  return { child, output: () => output, exited };
}
