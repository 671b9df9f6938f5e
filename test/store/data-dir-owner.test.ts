// One server per data directory: a second `ost-gate serve` on the same OST_DATA_DIR is refused with
// the directory and the owner's pid while the first goes on; a lock left by a SIGKILLed server is
// taken over, with a log line.
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';

import { createLogger, silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/serve.ts';
import { claimDataDir } from '../../src/store/data-dir-owner.ts';
import { serveProcess } from '../helpers/cli.ts';
import { configRules } from '../../src/registry.ts';

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

describe('one server per data directory', () => {
  it('refuses a second claim in the same process, naming the directory and the owner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-owner-'));
    const first = await claimDataDir(dir, silentLogger);
    await expect(claimDataDir(dir, silentLogger)).rejects.toThrow(
      new RegExp(`^OST_DATA_DIR=${dir} is in use by another ost-gate server \\(pid ${process.pid} on `),
    );
    await first.release();
    const again = await claimDataDir(dir, silentLogger);
    await again.release();
  });

  it('a second ost-gate serve exits with the message while the first goes on serving', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-owner-'));
    const server = await startServer({
      env: { OST_DATA_DIR: dir },
      config: configRules.validateServer({}),
      log: silentLogger,
      port: 0,
    });
    try {
      const second = serveProcess({ OST_DATA_DIR: dir, PORT: String(await freePort()) });
      expect(await second.exited).toBe(1);
      expect(second.output().trim()).toBe(
        `ost-gate: OST_DATA_DIR=${dir} is in use by another ost-gate server (pid ${process.pid} on ${(await import('node:os')).hostname()}): ` +
          'stop it, or give this server its own OST_DATA_DIR',
      );
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('takes over the lock of a server that was SIGKILLed, and says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-owner-'));
    const port = await freePort();
    const first = serveProcess({ OST_DATA_DIR: dir, PORT: String(port) });
    // ready once it answers (a busy machine may take a while: up to 600 polls)
    for (let i = 0; i < 600; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((ok) => setTimeout(ok, 50));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const lines: string[] = [];
    const log = createLogger({
      level: 'warn',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const server = await startServer({
      env: { OST_DATA_DIR: dir },
      config: configRules.validateServer({}),
      log,
      port: 0,
    });
    try {
      expect(lines.join('')).toContain(`took over ${dir} from pid ${first.child.pid} on `);
    } finally {
      await server.stop();
    }
  });
});
