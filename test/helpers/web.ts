// What the HTTP-level tests share: a performer that performs nothing (the engine and core run for
// real; only the effects go nowhere), and servers closed after each test.
import { afterEach } from 'vitest';
import type { Effect, Run } from '../../src/core/index.ts';
import type { Performer } from '../../src/engine/effects.ts';

export const noopPerformer: Performer = {
  perform: async (_e: { key: string; effect: Effect }) => undefined,
  alreadyDone: async () => false,
  resume: async (_r: Run) => undefined,
};

/** A list to push the test's servers on; each is closed after every test of the file. */
export function closedAfterEach(): { close(): void }[] {
  const servers: { close(): void }[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));
  return servers;
}
