// Test runs that outlive a crash of the server. Every command a runner starts leads a process group
// of its own and carries in its environment `OST_RUNNER=<runner>` and an `OST_WORKDIR` under the
// runner's work root (which one server's data directory owns). When the runner starts again, the
// processes of /proc whose environment carries both are what a crash left: their process groups are
// ended, and their runs are retried as lost (not as an infra error of the CI). Nothing is written per
// run: the marks travel with the processes themselves. Linux only: without /proc nothing is found,
// and the log says so.
import { readdir, readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Logger } from '../../log.ts';

const KILL_GRACE_MS = 5_000;

/** What marks a runner's processes: its name, and the work root their OST_WORKDIR is under. */
export interface RunMark {
  runner: string;
  workRoot: string;
}

/** A process of /proc that carries the mark: its pid, its process group, and its run's key. */
interface MarkedProcess {
  pid: number;
  group: number;
  key: string;
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat), or null when it is gone. */
async function processGroup(pid: number | 'self'): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, which may itself hold spaces and parentheses
    const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    return Number.isInteger(group) && group > 1 ? group : null;
  } catch {
    return null;
  }
}

/** The marked processes of /proc (null: there is no /proc to read). */
export async function markedProcesses(mark: RunMark): Promise<MarkedProcess[] | null> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  } catch {
    return null;
  }
  const own = await processGroup('self');
  const found: MarkedProcess[] = [];
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    // another user's processes cannot be read, and are not ours
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ) continue;
    const vars = environ.split('\0');
    const value = (name: string) => vars.find((v) => v.startsWith(`${name}=`))?.slice(name.length + 1);
    if (value('OST_RUNNER') !== mark.runner || !value('OST_WORKDIR')?.startsWith(mark.workRoot + sep)) continue;
    const group = await processGroup(pid);
    if (group === null || group === own) continue;
    found.push({ pid, group, key: value('OST_KEY') ?? '?' });
  }
  return found;
}

/**
 * Ends the process groups of the runs a server that stopped without ending them left, and returns
 * their keys.
 */
export async function endLeftovers(mark: RunMark, log: Logger): Promise<string[]> {
  const found = await markedProcesses(mark);
  if (found === null) {
    log.warn({ runner: mark.runner }, 'no /proc here: test processes a crash left running are not looked for');
    return [];
  }
  const groups = new Map<number, string>();
  for (const p of found) if (!groups.has(p.group)) groups.set(p.group, p.key);
  await Promise.all(
    [...groups].map(([group, key]) => {
      log.warn(
        { key, group, runner: mark.runner },
        `ending the test process group ${group} of run ${key}, left running by a server that stopped`,
      );
      return killGroup(group);
    }),
  );
  return [...new Set(groups.values())];
}

/** SIGTERM to the whole group, then SIGKILL once it has had KILL_GRACE_MS to stop. */
async function killGroup(group: number): Promise<void> {
  // signal 0 only asks whether the group is still there
  const signal = (s: NodeJS.Signals | 0) => {
    try {
      process.kill(-group, s);
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
