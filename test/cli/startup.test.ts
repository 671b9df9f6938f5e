// Start-up checks: each mistake a person can make when setting the server up stops it with one line
// that names the setting and the fix, exit code 1 and no stack trace.
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/serve.ts';
import { checkDataDir, checkLogLevel, listenAddress, readAppPrivateKey } from '../../src/startup/checks.ts';
import { SetupError } from '../../src/config/setup-error.ts';
import { serveProcess } from '../helpers/cli.ts';
import { configRules } from '../../src/registry.ts';
import { checkRunnerPrograms } from '../../src/ci/command/programs.ts';

const temp = () => mkdtemp(join(tmpdir(), 'ost-startup-'));

/** Runs `ost-gate serve` with `env`; its exit code and what it printed. */
async function serve(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const running = serveProcess(env);
  return { code: await running.exited, output: running.output() };
}

describe('start-up checks', () => {
  it('PORT, HOST and LOG_LEVEL', () => {
    expect(() => listenAddress({ PORT: 'abc' })).toThrow(/^PORT=abc is not a port number: set PORT to a number/);
    expect(() => listenAddress({ PORT: '70000' })).toThrow(SetupError);
    expect(() => listenAddress({ HOST: 'not a host' })).toThrow(/^HOST=not a host is not an address to listen on/);
    expect(listenAddress({ PORT: '8080', HOST: '0.0.0.0' })).toEqual({ port: 8080, host: '0.0.0.0' });
    expect(listenAddress({})).toEqual({ port: 3000, host: '127.0.0.1' });
    expect(() => checkLogLevel({ LOG_LEVEL: 'verbose' } as unknown as NodeJS.ProcessEnv)).toThrow(
      /^LOG_LEVEL=verbose is not a level: set LOG_LEVEL to one of/,
    );
    expect(() => checkLogLevel({ LOG_LEVEL: 'debug' })).not.toThrow();
  });

  it('a data directory that is a file, or under one, and one that is made when missing', async () => {
    const dir = await temp();
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(checkDataDir(file)).rejects.toThrow(
      /^OST_DATA_DIR=.*a-file cannot hold ost-gate's data \(EEXIST\): create it/,
    );
    await expect(checkDataDir(join(file, 'below'))).rejects.toThrow(/cannot hold ost-gate's data \(ENOTDIR\)/);
    await expect(checkDataDir(join(dir, 'new', 'data'))).resolves.toBeUndefined();
    // /proc takes no files, and a mkdir there may hang: refused at once
    await expect(checkDataDir('/proc/ostdata')).rejects.toThrow(
      /^OST_DATA_DIR=\/proc\/ostdata is on procfs, which cannot hold files/,
    );
  });

  it('a runner program that is missing or not executable', async () => {
    const dir = await temp();
    const script = join(dir, 'ost.sh');
    await writeFile(script, '#!/bin/sh\nexit 0\n');
    const config = (command: string[]) => configRules.validateServer({ runners: { ost: { command } } });
    await expect(checkRunnerPrograms(config(['no-such-program-ost']))).rejects.toThrow(
      /^runners\.ost\.command: no-such-program-ost is not found on PATH: install it, or give its full path/,
    );
    await expect(checkRunnerPrograms(config([script]))).rejects.toThrow(/ost\.sh does not exist or is not executable/);
    await chmod(script, 0o755);
    await expect(checkRunnerPrograms(config([script]))).resolves.toBeUndefined();
    await expect(checkRunnerPrograms(config(['sh', '-c', 'true']))).resolves.toBeUndefined();
  });

  it('the GitHub App key: missing, unreadable, or not a key', async () => {
    await expect(readAppPrivateKey({ APP_ID: '1' })).rejects.toThrow(
      /^APP_ID is set but PRIVATE_KEY and PRIVATE_KEY_PATH are not/,
    );
    await expect(readAppPrivateKey({ PRIVATE_KEY_PATH: '/nonexistent/app.pem' })).rejects.toThrow(
      /^PRIVATE_KEY_PATH=\/nonexistent\/app\.pem cannot be read \(ENOENT\)/,
    );
    await expect(readAppPrivateKey({ PRIVATE_KEY: 'garbage' })).rejects.toThrow(
      /^PRIVATE_KEY is not a PEM private key/,
    );
    const pem = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    // a key pasted into one line with \n escapes, as .env files often hold it
    expect(await readAppPrivateKey({ PRIVATE_KEY: pem.replace(/\n/g, '\\n') })).toBe(pem);
  });

  it('APP_ID without a webhook secret', async () => {
    const pem = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const env = { OST_DATA_DIR: await temp(), APP_ID: '1', PRIVATE_KEY: pem };
    await expect(
      startServer({ env, config: configRules.validateServer({}), log: silentLogger, port: 0 }),
    ).rejects.toThrow(/^APP_ID is set but WEBHOOK_SECRET is not/);
  });

  it('a port in use', async () => {
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as { port: number }).port;
    try {
      const env = { OST_DATA_DIR: await temp() };
      await expect(
        startServer({ env, config: configRules.validateServer({}), log: silentLogger, port }),
      ).rejects.toThrow(
        new RegExp(
          `^PORT=${port} on HOST=127\\.0\\.0\\.1 is in use by another process: stop it, or set PORT to a free port$`,
        ),
      );
    } finally {
      taken.close();
    }
  });

  it('ost-gate serve prints one line and exits 1, without a stack trace', async () => {
    const dir = await temp();
    await writeFile(join(dir, 'server.yml'), 'runners:\n  ost:\n    command: [no-such-program-ost]\n');
    const missing = await serve({ OST_DATA_DIR: join(dir, 'data'), OST_SERVER_CONFIG: join(dir, 'server.yml') });
    expect(missing.code).toBe(1);
    expect(missing.output.trim()).toBe(
      'ost-gate: runners.ost.command: no-such-program-ost is not found on PATH: install it, or give its full path in the server config',
    );
    const absent = await serve({ OST_DATA_DIR: join(dir, 'data'), OST_SERVER_CONFIG: join(dir, 'missing.yml') });
    expect([absent.code, absent.output.trim()]).toEqual([
      1,
      `ost-gate: OST_SERVER_CONFIG=${join(dir, 'missing.yml')} does not exist: create it, or unset OST_SERVER_CONFIG to start without one`,
    ]);
    const port = await serve({ OST_DATA_DIR: join(dir, 'data'), PORT: 'abc' });
    expect([port.code, port.output.trim().split('\n')]).toEqual([
      1,
      [expect.stringMatching(/^ost-gate: PORT=abc is not/)],
    ]);
    expect(port.output).not.toMatch(/\n\s+at /);
  });
});
