// Test runs that outlive a crash of the server. A command runner records each run's process group
// under <data>/runs/active/ while it runs (pid, and the process's start time, so that a pid reused by
// another process is never killed). When the server starts again, the process groups recorded
// there whose leader still has the same start time are killed; their runs are then retried as lost
// (not as an infra error of the CI). Linux only: elsewhere nothing is killed, and the log says so.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../log.ts';
import { safeSlug } from '../../store/slug.ts';

const KILL_GRACE_MS = 5_000;

interface ActiveRun {
  key: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  started: string | null;
}

/** When a process started (ticks since boot), or null when it does not exist or /proc is not there. */
export async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export class ActiveRuns {
  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {}

  private file(key: string): string {
    return join(this.dir, `${safeSlug(key)}.json`);
  }

  async record(key: string, pid: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const run: ActiveRun = { key, pid, started: await processStart(pid) };
    await writeFile(this.file(key), JSON.stringify(run));
  }

  async forget(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  /** Kills the process groups left by a server that stopped without ending them; the keys of their runs. */
  async endLeftovers(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ended: string[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      let run: ActiveRun;
      try {
        run = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as ActiveRun;
      } catch {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      const now = await processStart(run.pid);
      if (run.started !== null && now === run.started) {
        this.log.warn(
          { key: run.key, pid: run.pid },
          `ending the test process group ${run.pid} of run ${run.key}, left running by a server that stopped`,
        );
        await killGroup(run.pid);
      } else if (run.started === null) {
        this.log.warn(
          { key: run.key, pid: run.pid },
          `cannot tell whether process ${run.pid} of run ${run.key} is still ours; left alone`,
        );
      }
      ended.push(run.key);
      await rm(join(this.dir, name), { force: true });
    }
    return ended;
  }
}

/** SIGTERM to the whole group, then SIGKILL once it has had KILL_GRACE_MS to stop. */
async function killGroup(pid: number): Promise<void> {
  // signal 0 only asks whether the group is still there
  const signal = (s: NodeJS.Signals | 0) => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      return false;
    }
  };
  if (!signal('SIGTERM')) return;
  for (let waited = 0; waited < KILL_GRACE_MS; waited += 100) {
    await new Promise((ok) => setTimeout(ok, 100));
    if (!signal(0)) return;
  }
  signal('SIGKILL');
}
