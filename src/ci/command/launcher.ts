// Starts the commands of `command:` runs from a small helper process (launcher-child.ts), one per
// server process, instead of from the server itself: Node starts a program by forking the process
// that asks, and the asking thread waits until the copy has started the program. Forking the big
// server took a fifth of its CPU at 60 runs/s (bench:ha on two cores) and stopped every request
// meanwhile; the helper is small, and while it forks only the helper waits. If the helper dies, the
// commands it started are killed and end as errors, and the next command starts a new helper.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** How a command ended: its exit code or signal, or the error that kept it from starting. */
export interface CommandEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A command to start: `program` with `args` in `cwd`, with exactly `env`. */
export interface LaunchRequest {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

/** A command started: its pid (the leader of its own process group; null when it could not start) and its end. */
export interface Launched {
  pid: number | null;
  ended: Promise<CommandEnd>;
}

type HelperMessage =
  | { type: 'started'; id: number; pid: number | null }
  | { type: 'output'; id: number; chunk: Uint8Array }
  | { type: 'ended'; id: number; code: number | null; signal: NodeJS.Signals | null; error?: string };

interface Pending {
  pid: number | null;
  started: (pid: number | null) => void;
  output: (chunk: Buffer) => void;
  ended: (end: CommandEnd) => void;
}

/** The helper's script: compiled next to this file, or the TypeScript source under the tests (through tsx). */
function helperScript(): { path: string; execArgv: string[] } {
  const source = import.meta.url.endsWith('.ts');
  const path = fileURLToPath(new URL(`./launcher-child.${source ? 'ts' : 'js'}`, import.meta.url));
  return { path, execArgv: source ? ['--import', 'tsx'] : [] };
}

export class Launcher {
  private helper: ChildProcess | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Starts a command; `output` gets its stdout and stderr as they come. */
  launch(request: LaunchRequest, output: (chunk: Buffer) => void): Promise<Launched> {
    const helper = this.helper ?? this.startHelper();
    const id = ++this.nextId;
    return new Promise<Launched>((resolve) => {
      let ended!: (end: CommandEnd) => void;
      const end = new Promise<CommandEnd>((ok) => (ended = ok));
      const entry: Pending = {
        pid: null,
        started: (pid) => {
          entry.pid = pid;
          resolve({ pid, ended: end });
        },
        output,
        ended: (how) => {
          this.pending.delete(id);
          this.holdOpen();
          ended(how);
          resolve({ pid: entry.pid, ended: end }); // a helper that died before it answered
        },
      };
      this.pending.set(id, entry);
      this.holdOpen();
      helper.send({ type: 'start', id, ...request }, (err) => {
        if (err) entry.ended({ code: null, signal: null, error: new Error(`the launcher process: ${err.message}`) });
      });
    });
  }

  private startHelper(): ChildProcess {
    const { path, execArgv } = helperScript();
    const helper = fork(path, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    helper.on('message', (message: HelperMessage) => this.receive(message));
    const gone = (why: string) => this.helperGone(helper, why);
    helper.once('error', (err) => gone(`failed: ${err.message}`));
    helper.once('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    this.helper = helper;
    return helper;
  }

  private receive(message: HelperMessage): void {
    const entry = this.pending.get(message.id);
    if (!entry) return;
    if (message.type === 'started') entry.started(message.pid);
    else if (message.type === 'output') entry.output(Buffer.from(message.chunk));
    else {
      const { code, signal, error } = message;
      entry.ended({ code, signal, ...(error ? { error: new Error(error) } : {}) });
    }
  }

  /** The helper died: its commands are killed (nobody hears them any more) and end as errors. */
  private helperGone(helper: ChildProcess, why: string): void {
    if (this.helper !== helper) return;
    this.helper = null;
    for (const entry of [...this.pending.values()]) {
      if (entry.pid)
        try {
          process.kill(-entry.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      entry.ended({ code: null, signal: null, error: new Error(`the launcher process ${why}`) });
    }
  }

  /** The helper keeps the server's process alive only while a command runs. */
  private holdOpen(): void {
    if (!this.helper) return;
    if (this.pending.size) {
      this.helper.ref();
      this.helper.channel?.ref();
    } else {
      this.helper.unref();
      this.helper.channel?.unref();
    }
  }
}

/** The launcher of this process, shared by every `command:` runner. */
export const launcher = new Launcher();
