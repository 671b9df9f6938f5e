// Tests of the repo and server config schemas: defaults, readable errors, no commands in repo config.
import { describe, expect, it } from 'vitest';
import { batchingPolicies, defaultSettings, STRATEGY_NAMES, VERDICT_KINDS } from '../../src/core/index.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { toQueueSettings } from '../../src/config/repo.ts';
import { configRules } from '../../src/registry.ts';
import { watchedRepositories } from '../../src/hosts/git/config.ts';
import { dispatchInputsProblem } from '../../src/ci/github-actions/kind.ts';

const problems = (f: () => unknown): string[] => {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('repo config', () => {
  it('fills defaults and maps to queue settings', () => {
    const cfg = configRules.parseRepo('ci:\n  provider: jenkins\n  job: ost\n  timeout: 90m\n');
    expect(cfg).toMatchObject({
      branches: ['master', 'main'],
      batch: { max_size: 20 },
      flaky: { confirm: 1, confidence: 0.999 },
      strategy: 'bisect',
      report: { notify: ['culprit', 'blocked', 'fixed'] },
    });
    expect(toQueueSettings(cfg)).toMatchObject({
      timeoutMs: 90 * 60_000,
      maxParallel: 2,
      retries: 2,
      batchMaxSize: 20,
      confirm: 1,
    });
  });

  it('passes a run early on a likely flake of a known flaky test unless told otherwise, and names a bad setting', () => {
    const parse = (flaky: string) => configRules.parseRepo(`ci: {provider: jenkins, job: x}\n${flaky}`);
    expect(toQueueSettings(parse('')).earlyPass).toBe(0.8);
    expect(toQueueSettings(parse('flaky: {early_pass: 0.95}\n')).earlyPass).toBe(0.95);
    expect(toQueueSettings(parse('flaky: {early_pass: null}\n')).earlyPass).toBeNull();
    expect(problems(() => parse('flaky: {early_pass: 0.3}\n'))).toEqual([
      expect.stringMatching(/^flaky\.early_pass: got 0\.3/),
    ]);
  });

  it('lets one try run go out at once unless told otherwise, and maps it to the queue settings', () => {
    const cfg = configRules.parseRepo('ci:\n  provider: jenkins\n  job: ost\n');
    expect(toQueueSettings(cfg).tryMaxParallel).toBe(1);
    expect(
      toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: x}\ntry: {max_parallel: 0}\n')),
    ).toMatchObject({
      tryMaxParallel: 0,
    });
    expect(problems(() => configRules.parseRepo('ci: {provider: jenkins, job: x}\ntry: {max_parallel: -1}\n'))).toEqual(
      [expect.stringMatching(/^try\.max_parallel: got -1/)],
    );
  });

  it('keeps reverts off unless asked, and names a bad revert setting', () => {
    const cfg = configRules.parseRepo('ci:\n  provider: jenkins\n  job: ost\n');
    expect(cfg.revert).toEqual({
      auto: false,
      confidence: 0.9999,
      max_age: 24 * 3_600_000,
      daily_limit: 4,
      submit: false,
    });
    expect(
      configRules.parseRepo('ci: {provider: jenkins, job: x}\nrevert: {auto: true, max_age: 2h}\n').revert,
    ).toMatchObject({
      auto: true,
      max_age: 2 * 3_600_000,
    });
    expect(
      problems(() => configRules.parseRepo('ci: {provider: jenkins, job: x}\nrevert: {daily_limit: -1, when: now}\n')),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^revert\.daily_limit: got -1/),
        expect.stringMatching(/unknown key "when"/),
      ]),
    );
  });

  it('names the key, the value and what is allowed for each problem', () => {
    const p = problems(() =>
      configRules.parseRepo('ci:\n  provider: travis\n  max_parallel: 0\nbatch:\n  max_size: big\nstrategy: random\n'),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^ci\.provider: got "travis"; allowed: github-actions, jenkins, webhook:<name> or command:<name>/,
        ),
        expect.stringMatching(/^ci\.max_parallel: got 0; .*>=1/),
        expect.stringMatching(/^batch\.max_size: got "big"; .*number/),
        expect.stringMatching(/^strategy: got "random"; .*bisect.*bayes/),
      ]),
    );
  });

  it('rejects unknown keys, including a shell command', () => {
    expect(problems(() => configRules.parseRepo('ci:\n  provider: command:ost\n  command: rm -rf /\n'))).toEqual([
      expect.stringMatching(/^ci: unknown key "command"/),
    ]);
    expect(problems(() => configRules.parseRepo('ci: {provider: jenkins, job: x}\nbatchh: {}\n'))).toEqual([
      expect.stringMatching(/unknown key "batchh"/),
    ]);
  });

  it('explains YAML that does not parse, an empty file, and provider-specific requirements', () => {
    expect(problems(() => configRules.parseRepo('ci: [unclosed'))[0]).toMatch(/not valid YAML/);
    // the line, the column and the lines around them, as the YAML parser shows them
    expect(problems(() => configRules.parseRepo('ci:\n  provider: jenkins\n  job: [a\nbranches: x: y\n'))[0]).toMatch(
      /^not valid YAML: .* at line 4, column 1:\n {4}\| {3}job: \[a\n {4}\| branches: x: y\n {4}\| \^$/,
    );
    expect(problems(() => configRules.parseRepo(''))[0]).toMatch(/empty/);
    expect(problems(() => configRules.parseRepo('ci:\n  provider: github-actions\n'))).toEqual([
      expect.stringMatching(/^ci\.workflow: .*required when ci.provider is github-actions/),
    ]);
    expect(problems(() => configRules.parseRepo('ci:\n  provider: jenkins\n  job: x\n  timeout: soon\n'))[0]).toMatch(
      /ci\.timeout: got "soon"; "soon" is not a duration/,
    );
  });
});

describe('server config', () => {
  it('accepts runners as argument lists and git repos with defaults', () => {
    const cfg = configRules.validateServer({
      runners: { ost: { command: ['bash', 'run.sh'] } },
      git: [{ name: 'demo', url: '/srv/repo' }],
    });
    expect(watchedRepositories(cfg)[0]).toMatchObject({ branch: 'master', interval: 30_000, notes: false });
    expect(cfg.tick).toBe(5000);
  });

  it('refuses a command given as a shell string', () => {
    expect(problems(() => configRules.validateServer({ runners: { ost: { command: 'bash run.sh' } } }))[0]).toMatch(
      /^runners\.ost\.command: got "bash run.sh"/,
    );
  });
});

describe('defaults', () => {
  it('a config that sets only ci.provider gives the core its own default settings (one source of truth)', () => {
    const settings = toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: ost}'));
    const { revertAware: _r, gapTimeoutMs: _g, ...configurable } = defaultSettings;
    expect(settings).toEqual(configurable);
  });

  it('ci.use_idle_runners spends spare runners on speed, and a batch setting given in the file still wins', () => {
    const idle = toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: ost, use_idle_runners: true}'));
    expect(idle).toMatchObject({ ...batchingPolicies['use-idle-runners'].defaults });
    expect(idle.batchMaxInFlight).not.toBe(defaultSettings.batchMaxInFlight);
    const mixed = toQueueSettings(
      configRules.parseRepo(
        'ci: {provider: jenkins, job: ost, use_idle_runners: true}\nbatch: {max_in_flight: 2, hold: 0.25}',
      ),
    );
    expect(mixed).toMatchObject({ batchMaxInFlight: 2, speculate: true, holdShare: 0.25 });
    const plain = toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: ost}\nbatch: {speculate: true}'));
    expect(plain).toMatchObject({ batchMaxInFlight: defaultSettings.batchMaxInFlight, speculate: true });
  });

  it('batch.policy picks the batching policy by name; ci.use_idle_runners is its older spelling and may not disagree', () => {
    const named = toQueueSettings(
      configRules.parseRepo('ci: {provider: jenkins, job: o}\nbatch: {policy: use-idle-runners}'),
    );
    const older = toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: o, use_idle_runners: true}'));
    expect(named).toEqual(older);
    expect(named).toMatchObject({ batching: 'use-idle-runners', ...batchingPolicies['use-idle-runners'].defaults });
    expect(toQueueSettings(configRules.parseRepo('ci: {provider: jenkins, job: o}')).batching).toBe('save-runs');
    expect(
      problems(() =>
        configRules.parseRepo('ci: {provider: jenkins, job: o, use_idle_runners: true}\nbatch: {policy: save-runs}'),
      ),
    ).toEqual([
      'batch.policy: got "save-runs"; ci.use_idle_runners: true asks for use-idle-runners and this for save-runs: keep one of the two',
    ]);
    expect(problems(() => configRules.parseRepo('ci: {provider: jenkins, job: o}\nbatch: {policy: eager}'))[0]).toMatch(
      /^batch\.policy: got "eager"; .*"save-runs"\|"use-idle-runners"/,
    );
  });

  it('names batch.hold and its bounds when it is out of range', () => {
    expect(problems(() => configRules.parseRepo('ci: {provider: jenkins, job: o}\nbatch: {hold: -1}'))[0]).toMatch(
      /^batch\.hold: got -1; .*>=0/,
    );
    expect(
      problems(() => configRules.parseRepo('ci: {provider: jenkins, job: o, use_idle_runners: yes please}'))[0],
    ).toMatch(/^ci\.use_idle_runners: /);
  });

  it('accepts exactly the strategies and verdict kinds the core knows', () => {
    for (const strategy of STRATEGY_NAMES)
      expect(configRules.parseRepo(`ci: {provider: jenkins, job: o}\nstrategy: ${strategy}`).strategy).toBe(strategy);
    const all = configRules.parseRepo(
      `ci: {provider: jenkins, job: o}\nreport: {notify: [${VERDICT_KINDS.join(', ')}]}`,
    );
    expect(all.report.notify).toEqual([...VERDICT_KINDS]);
  });
});

describe('workflow_dispatch inputs', () => {
  const withInputs = (n: number) =>
    `ci: {provider: github-actions, workflow: ost.yml, inputs: {${Array.from({ length: n }, (_, i) => `k${i}: v`).join(', ')}}}`;

  it('accepts 22 inputs on github.com and refuses 23, saying which limit applies', () => {
    expect(configRules.parseRepo(withInputs(22)).ci.inputs).toHaveProperty('k21');
    expect(problems(() => configRules.parseRepo(withInputs(23)))[0]).toMatch(
      /^ci\.inputs: .*github\.com takes at most 25 in a workflow_dispatch .* so at most 22 here/,
    );
  });

  it.each([
    [7, true, null],
    [8, true, /GitHub Enterprise Server takes at most 10 .* so at most 7 here/],
    [22, false, null],
  ] as const)('%i inputs on GHES=%s', (n, ghes, expected) => {
    const problem = dispatchInputsProblem(n, ghes);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});
