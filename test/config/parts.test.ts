// The config rules are composed from the parts the runner kinds and hosts bring: a new kind is
// accepted in `ci.provider` with its own fields and checks, and nothing in config/ names it.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dispatchTarget, providerProblem, reportsByCallback, runnerKinds } from '../../src/ci/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import type { ConfigPart } from '../../src/config/parts.ts';
import { ConfigRules } from '../../src/config/rules.ts';
import { ciTarget } from '../../src/config/repo.ts';
import { configParts, configRules } from '../../src/registry.ts';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

/** A runner kind the project does not have: Buildkite, with a pipeline it requires. */
const buildkite: ConfigPart = {
  id: 'buildkite',
  provider: { kind: 'buildkite', named: false },
  repo: { ci: { pipeline: z.string().min(1).optional() } },
  checkCi: (ci) =>
    ci.provider === 'buildkite' && !ci.pipeline ? [{ path: ['pipeline'], message: 'required for buildkite' }] : [],
  server: { buildkite: z.object({ org: z.string() }).strict().optional() },
};

describe('config parts', () => {
  it('takes a new runner kind with its fields, checks and server section, without a change in config/', () => {
    const rules = new ConfigRules([...configParts, buildkite]);
    const config = rules.parseRepo('ci: {provider: buildkite, pipeline: ost}');
    expect(config.ci).toMatchObject({ provider: 'buildkite', pipeline: 'ost' });
    expect(ciTarget(config)).toEqual({ provider: 'buildkite', pipeline: 'ost', inputs: {} });
    expect(problems(() => rules.parseRepo('ci: {provider: buildkite}'))).toEqual([
      'ci.pipeline: got nothing; required for buildkite',
    ]);
    expect(rules.validateServer({ buildkite: { org: 'ovirt' } }).buildkite).toEqual({ org: 'ovirt' });
    // the server's own rules know no such kind, and say which ones they know
    expect(problems(() => configRules.parseRepo('ci: {provider: buildkite, pipeline: ost}'))[0]).toMatch(
      /^ci\.provider: got "buildkite"; allowed: github-actions, jenkins, webhook:<name> or command:<name>/,
    );
  });

  it('takes either host’s values for a field two hosts add (commands.permission), each host reading its own', () => {
    expect(configRules.parseRepo('ci: {provider: jenkins, job: j}').commands.permission).toBe('write');
    expect(configRules.parseRepo('ci: {provider: jenkins, job: j}\ncommands: {permission: maintain}').commands).toEqual(
      {
        permission: 'maintain',
      },
    );
    expect(
      configRules.parseRepo('ci: {provider: jenkins, job: j}\ncommands: {permission: [Maintainers]}').commands,
    ).toEqual({ permission: ['Maintainers'] });
    expect(
      problems(() => configRules.parseRepo('ci: {provider: jenkins, job: j}\ncommands: {permission: 7}')),
    ).toHaveLength(1);
  });

  it('keeps a field of one kind out of the fields of another section', () => {
    expect(problems(() => configRules.parseRepo('ci: {provider: jenkins, job: j}\nreport: {job: j}'))[0]).toMatch(
      /^report: unknown key "job"/,
    );
  });
});

describe('runner kinds', () => {
  it('says, for each kind, where runs go and whether results come by the callback', () => {
    const targets = {
      'github-actions': { ci: { provider: 'github-actions', repository: 'o/r', workflow: 'ost.yml' }, callback: false },
      jenkins: { ci: { provider: 'jenkins', job: 'ost' }, callback: true },
      webhook: { ci: { provider: 'webhook:ci' }, callback: true },
      command: { ci: { provider: 'command:ost' }, callback: false },
    };
    expect(runnerKinds.map((k) => k.id).sort()).toEqual(Object.keys(targets).sort());
    expect(Object.values(targets).map((t) => dispatchTarget(t.ci))).toEqual([
      'github-actions:o/r:ost.yml',
      'jenkins:ost',
      'webhook:ci',
      'command:ost',
    ]);
    for (const t of Object.values(targets)) expect(reportsByCallback(dispatchTarget(t.ci))).toBe(t.callback);
    expect(reportsByCallback('travis')).toBe(false);
  });

  it('tells what the server needs for a provider it lacks, in the words of its kind', () => {
    expect(providerProblem('jenkins', ['command:ost'])).toBe(
      'got "jenkins"; this server cannot run tests there (it has command:ost): set JENKINS_URL on the server, or name one it has',
    );
    expect(providerProblem('webhook:ci', [])).toBe(
      'got "webhook:ci"; this server cannot run tests there (it has none): declare ci under webhooks: in the server config, or name one it has',
    );
    expect(providerProblem('github-actions', ['jenkins'])).toMatch(/set the GitHub App \(APP_ID\) on the server/);
    expect(providerProblem('jenkins', ['jenkins'])).toBeNull();
  });
});
