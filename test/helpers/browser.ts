// What the browser tests share: Debian's chromium, headless and started the way this closed machine
// needs (no background networking), and a real server whose runs go to a held CI that the test
// finishes by hand, failing the runs it chooses.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { CoreEvent, DispatchSpec } from '../../src/core/index.ts';
import type { Dispatcher } from '../../src/engine/effects.ts';
import { silentLogger } from '../../src/log.ts';
import { configRules } from '../../src/registry.ts';
import { startServer, type RunningServer } from '../../src/serve.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface HeldServer {
  server: RunningServer;
  /** Submits an event to `queue`, whose CI is the held one. */
  submit(event: CoreEvent): Promise<unknown>;
  /** Two runners, one confirmation; changes c1 to c4 merged in one push, titled by `titleOf`. */
  mergeFour(titleOf: (id: string) => string): Promise<void>;
  /** Finishes every run in flight: failed where `fails` says so, with a CI link when `url` gives one. */
  finish(fails: (run: DispatchSpec) => boolean, url?: (key: string) => string): Promise<void>;
}

/** Whether a run holds c3, the culprit of mergeFour's push (its batch, and prefixes up to c3 or c4). */
export const holdsC3 = (r: DispatchSpec) => r.changes.includes('c3') || ['c3', 'c4'].includes(r.end);

/** `ost-gate serve`'s server in this process, its pages refreshing every 150 ms, its runs held. */
export async function heldServer(queue: string): Promise<HeldServer> {
  const dispatched: DispatchSpec[] = [];
  const held: Dispatcher = { dispatch: async (run) => void dispatched.push(run) };
  const env = { OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-browser-')), OST_DASHBOARD_REFRESH_MS: '150' };
  const server = await startServer({
    env,
    config: configRules.validateServer({ tick: 60_000 }),
    log: silentLogger,
    port: 0,
    dispatchers: { 'command:held': held },
  });
  const submit = (event: CoreEvent) =>
    server.engine.submit(queue, event, { setup: { ci: { provider: 'command:held' } } });
  return {
    server,
    submit,
    async mergeFour(titleOf) {
      await submit({ type: 'configure', at: Date.now(), settings: { maxParallel: 2, confirm: 1, confidence: 0.999 } });
      await submit({
        type: 'merged',
        at: Date.now(),
        stream: { host: 'git', project: 'app', branch: 'main' },
        before: 'base',
        after: 'sha-c4',
        changes: ['c1', 'c2', 'c3', 'c4'].map((id, i) => ({
          id,
          sha: `sha-${id}`,
          parent: i ? `sha-c${i}` : 'base',
          title: titleOf(id),
        })),
      });
    },
    async finish(fails, url) {
      const file = (await server.engine.reads.queue(queue))!;
      const open = dispatched.filter((r) => ['dispatched', 'running'].includes(file.state.runs[r.key]?.state ?? ''));
      for (const r of open)
        await submit({
          type: 'run-finished',
          at: Date.now(),
          key: r.key,
          status: fails(r) ? 'failure' : 'success',
          ...(url ? { url: url(r.key) } : {}),
        });
    },
  };
}
