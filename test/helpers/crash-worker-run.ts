// Running the crash worker (fixtures/crash-worker.ts) as a process of its own, to be SIGKILLed: it
// is bundled to plain JavaScript once per test file, so that each restart costs a Node start, not a
// TypeScript compile, and the tests are bounded by their number of kills, not by how busy the
// machine is.
import type { WritePoint } from '../../src/store/lowdb-store.ts';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const source = join(import.meta.dirname, '..', 'fixtures', 'crash-worker.ts');

/** Bundles the worker; returns its path and how to remove it. */
export async function bundleCrashWorker(): Promise<{ path: string; remove: () => Promise<void> }> {
  // inside node_modules, so that the bundle's external imports resolve to the project's packages
  const out = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'ost-gate-tests');
  const path = join(out, `crash-worker-${process.pid}-${Math.random().toString(36).slice(2)}.mjs`);
  await build({
    entryPoints: [source],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return { path, remove: () => rm(path, { force: true }) };
}

export interface Outcome {
  code: number | null;
  killed: boolean;
  /** The write point where the worker killed itself, if it did. */
  point: string | null;
}

export interface WorkerRun {
  dataDir: string;
  /** The file the worker's reporter appends each report to. */
  reports: string;
  /** SIGKILL this long after the worker says READY; null: never. */
  killAfterMs: number | null;
  /** The worker kills itself the first time the store reaches this write point (snapshot, journal rotation). */
  stopAt?: WritePoint | undefined;
  /** The queue mails its verdicts to this SMTP server. */
  smtpUrl?: string | undefined;
  /** ...and to the Matrix stand-in at this homeserver URL (chat-services.ts). */
  matrixUrl?: string | undefined;
  /** Given the function that SIGKILLs the worker, for a test that kills it at a moment of its own. */
  onStart?: (kill: () => void) => void;
}

/** Starts the worker at `path` and says how it ended. */
export function startWorker(path: string, run: WorkerRun): Promise<Outcome> {
  const args = [run.dataDir, run.reports, run.stopAt ?? '', run.smtpUrl ?? '', run.matrixUrl ?? ''];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let killed = false;
    run.onStart?.(() => (killed = child.kill('SIGKILL') || killed));
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (run.killAfterMs !== null && d.toString().includes('READY')) {
        setTimeout(() => {
          killed = child.kill('SIGKILL') || killed;
        }, run.killAfterMs);
      }
    });
    child.once('exit', (code, signal) => {
      const point = /KILLED AT (\S+)/.exec(out)?.[1] ?? null;
      if (!killed && !point && code !== 0) process.stderr.write(err);
      resolve({ code, killed: (killed || point !== null) && signal === 'SIGKILL', point });
    });
  });
}
