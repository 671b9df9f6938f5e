// The CLI's conventions: --version, --help on every subcommand (exit 0), unknown options and
// commands rejected (exit 2), and `ost-gate check` validating both configs (exit 0 or 1).
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const run = runCli;

const SUBCOMMANDS = ['serve', 'demo', 'status', 'check', 'simulate', 'github-app', 'pause', 'retry'];

describe('the ost-gate command', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile('package.json', 'utf8')));
    expect(await run('--version')).toEqual({ code: 0, out: pkg.version, err: '' });
  });

  it.each(SUBCOMMANDS)('%s --help prints its usage and exits 0', async (command) => {
    const { code, out } = await run(command, '--help');
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: ost-gate /);
    expect(out).not.toMatch(/DESIGN section/);
  });

  it.each(SUBCOMMANDS)('%s rejects an unknown option with exit 2', async (command) => {
    const { code, err } = await run(command, '--frobnicate');
    expect(code).toBe(2);
    expect(err).toMatch(/Unknown option '--frobnicate'/);
  });

  it('rejects an unknown command with exit 2, and a missing data directory for status with exit 1', async () => {
    expect((await run('frobnicate')).code).toBe(2);
    const status = await run('status', '--data-dir', '/nonexistent/ost-data');
    expect(status).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--data-dir=\/nonexistent\/ost-data is not a directory/),
    });
  });
});

describe('ost-gate check', () => {
  it('says ok for valid configs and names every problem of invalid ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-check-'));
    const script = join(dir, 'ost.sh');
    await writeFile(script, '#!/bin/sh\n');
    await chmod(script, 0o755);
    await writeFile(join(dir, 'server.yml'), `runners:\n  ost:\n    command: [${script}]\n`);
    await writeFile(join(dir, 'repo.yml'), 'ci:\n  provider: command:ost\nbranches: [main]\n');
    const good = await run('check', '--server-config', join(dir, 'server.yml'), '--repo-config', join(dir, 'repo.yml'));
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/^ok: server config .*\nok: repo config /);
    await writeFile(join(dir, 'bad-server.yml'), 'runners:\n  ost:\n    command: [no-such-program-ost]\n');
    await writeFile(join(dir, 'bad-repo.yml'), 'ci:\n  provider: travis\nbatchh: 1\n');
    const bad = await run(
      'check',
      '--server-config',
      join(dir, 'bad-server.yml'),
      '--repo-config',
      join(dir, 'bad-repo.yml'),
    );
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/runners\.ost\.command: no-such-program-ost is not found on PATH/);
    expect(bad.out).toMatch(/ci\.provider: got "travis"/);
    expect(bad.out).toMatch(/unknown key "batchh"/);
    expect((await run('check')).code).toBe(2);
  });

  it('refuses a repo config whose runner the server config does not declare, and says what it has', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-check-'));
    await writeFile(join(dir, 'server.yml'), 'runners:\n  ost:\n    command: [/bin/true]\n');
    await writeFile(join(dir, 'repo.yml'), 'ci:\n  provider: command:nosuch\n');
    const res = await run('check', '--server-config', join(dir, 'server.yml'), '--repo-config', join(dir, 'repo.yml'));
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      /ci\.provider: got "command:nosuch"; this server cannot run tests there \(it has command:ost\): declare nosuch under runners: in the server config/,
    );
    // without a server config, it says what it could not check
    const alone = await run('check', '--repo-config', join(dir, 'repo.yml'));
    expect(alone.code).toBe(0);
    expect(alone.out).toMatch(
      /note: ci\.provider command:nosuch is checked against the server's runners only with --server-config/,
    );
    // a missing file is said to be missing
    expect((await run('check', '--repo-config', join(dir, 'nope.yml'))).out).toMatch(
      /nope\.yml is not valid:\n {2}- the file does not exist/,
    );
  });

  it('refuses a server config whose shared queue names a runner it does not declare', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-check-'));
    await writeFile(
      join(dir, 'server.yml'),
      'queues:\n  ovirt:\n    members: ["git:*"]\n    ci: {provider: "command:ost"}\n',
    );
    const res = await run('check', '--server-config', join(dir, 'server.yml'));
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      /queues\.ovirt\.ci\.provider: got "command:ost"; not declared in this file: add ost under runners:/,
    );
  });
});
