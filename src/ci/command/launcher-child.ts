// The launcher process (launcher.ts starts it): starts the commands of `command:` runs for the
// server, each leading a process group of its own, and sends their output and how they ended back
// over the IPC channel. It imports nothing of ost-gate, and exits when the server goes, leaving the
// commands running as a crash of the server always did (orphans.ts ends them at the next start).
import { spawn } from 'node:child_process';

/** What the server asks: start `program` with `args` in `cwd` with exactly `env`. */
interface StartMessage {
  type: 'start';
  id: number;
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

const send = (message: object): void => {
  if (process.connected) process.send!(message);
};

function start({ id, program, args, cwd, env }: StartMessage): void {
  const child = spawn(program, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  send({ type: 'started', id, pid: child.pid ?? null });
  const output = (chunk: Buffer) => send({ type: 'output', id, chunk });
  child.stdout?.on('data', output);
  child.stderr?.on('data', output);
  let ended = false;
  const end = (how: { code: number | null; signal: NodeJS.Signals | null; error?: string }) => {
    if (ended) return;
    ended = true;
    send({ type: 'ended', id, ...how });
  };
  child.once('error', (err) => end({ code: null, signal: null, error: err.message }));
  child.once('close', (code, signal) => end({ code, signal }));
}

process.on('message', (message: StartMessage) => {
  if (message?.type === 'start') start(message);
});
process.on('disconnect', () => process.exit(0));
