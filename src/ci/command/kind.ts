// The `command:<name>` runner kind: a program the *server* config declares under `runners:`, run on
// the bot's host for each run (never one a repo config names). Its result is its exit code.
import { join } from 'node:path';
import type { RunnerKind } from '../kind.ts';
import { CommandDispatcher } from './dispatcher.ts';
import { checkRunnerPrograms } from './programs.ts';
import { commandRunners, runnersSection } from './runners.ts';

export const commandKind: RunnerKind = {
  id: 'command',
  config: {
    id: 'command',
    provider: { kind: 'command', named: true },
    server: { runners: runnersSection },
    declared: (server) => Object.keys(commandRunners(server)).map((n) => `command:${n}`),
  },
  target: (ci) => ci.provider,
  callback: false,
  check: checkRunnerPrograms,
  setup: (runner) => `declare ${runner ?? 'it'} under runners: in the server config`,
  factory: {
    id: 'runners',
    howToEnable: 'declare command runners under runners: in OST_SERVER_CONFIG',
    create({ config, dataDir, log, keepRunLog }) {
      const runners = Object.entries(commandRunners(config)).map(
        ([runner, spec]) =>
          [
            runner,
            new CommandDispatcher(runner, spec, {
              workRoot: join(dataDir, 'work'),
              keepLog: keepRunLog,
              log,
              endLeftovers: true,
            }),
          ] as const,
      );
      if (runners.length === 0) return null;
      return {
        dispatchers: Object.fromEntries(runners.map(([runner, d]) => [`command:${runner}`, d])),
        summary: `command runners: ${runners.map(([runner]) => runner).join(', ')}`,
        stop: async () => void (await Promise.all(runners.map(([, d]) => d.stopAll()))),
      };
    },
  },
};
