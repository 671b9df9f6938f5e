// Try requests for core and dashboard tests: an open change's try, asked of a queue that passed its first change.
import type { CoreEvent, TryTarget } from '../../src/core/index.ts';
import { Harness } from './harness.ts';

/** The try of open change `git:app#<n>`, asked by alice. */
export function tryOf(n: number, extra: Partial<TryTarget> = {}): Extract<CoreEvent, { type: 'try' }>['target'] {
  return {
    change: `git:app#${n}`,
    host: 'git',
    project: 'app',
    branch: 'main',
    sha: `try-sha-${n}`,
    by: 'alice',
    ...extra,
  };
}

/** `/ost try` of change n, replying to `{ n }`. */
export function ask(h: Harness, n: number, extra: Partial<TryTarget> = {}) {
  return h.send({ type: 'try', at: h.now, target: tryOf(n, extra), replyTo: { n } });
}

/** A queue that passed `first` (its stream's good commit is sha-first) and is idle. */
export function passed(settings = {}): Harness {
  const h = new Harness({ maxParallel: 2, holdShare: 0, ...settings });
  h.merge(['first']);
  h.round(() => false);
  return h;
}

/** The try runs in flight. */
export const tries = (h: Harness) => h.inFlight().filter((r) => r.kind === 'try');
