// Tests of the launcher: commands start from the helper process, with exactly the environment given,
// their output and end come back, and a helper that dies takes its commands with it and is replaced.
import { describe, expect, it } from 'vitest';
import { Launcher, type LaunchRequest } from '../../src/ci/command/launcher.ts';
import { isRunning, parentOf } from '../helpers/processes.ts';

const shell = (script: string, env: Record<string, string> = {}): LaunchRequest => ({
  program: '/bin/sh',
  args: ['-c', script],
  cwd: '/',
  env: { PATH: '/usr/bin:/bin', ...env },
});

describe('the launcher', () => {
  it('starts a command from its helper, not from the server, with only the environment given, and returns its output and exit code', async () => {
    const launcher = new Launcher();
    const output: Buffer[] = [];
    const launched = await launcher.launch(
      shell('echo "key=$OST_KEY home=${HOME:-none}"; echo oops >&2; echo "parent=$PPID"; exit 3', { OST_KEY: 'k1' }),
      (chunk) => output.push(chunk),
    );
    expect(launched.pid).toBeGreaterThan(0);
    const end = await launched.ended;
    expect(end).toEqual({ code: 3, signal: null });
    const text = Buffer.concat(output).toString('utf8');
    expect(text).toContain('key=k1 home=none');
    expect(text).toContain('oops');
    const parent = Number(/parent=(\d+)/.exec(text)?.[1]);
    expect(parent).not.toBe(process.pid);
    expect(parent).toBeGreaterThan(0);
  });

  it('says why a program could not start', async () => {
    const launcher = new Launcher();
    const launched = await launcher.launch({ ...shell(''), program: '/nonexistent/ost-test' }, () => undefined);
    expect(launched.pid).toBeNull();
    expect((await launched.ended).error?.message).toMatch(/ENOENT/);
  });

  it('kills the commands of a helper that died, ends them as errors, and starts a new helper for the next', async () => {
    const launcher = new Launcher();
    const launched = await launcher.launch(shell('sleep 60'), () => undefined);
    const pid = launched.pid!;
    const helper = parentOf(pid)!;
    expect(helper).not.toBe(process.pid);
    process.kill(helper, 'SIGKILL');
    const end = await launched.ended;
    expect(end.error?.message).toMatch(/the launcher process (was killed by SIGKILL|exited)/);
    for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((ok) => setTimeout(ok, 50));
    expect(isRunning(pid)).toBe(false);
    const again = await launcher.launch(shell('exit 0'), () => undefined);
    expect(await again.ended).toEqual({ code: 0, signal: null });
    expect(parentOf(again.pid!) ?? 'gone').not.toBe(helper);
  });
});
