// A dispatcher's context for CI tests: a queue file with the given CI settings, and the events the
// dispatcher submits back (a run's start and end) collected in a list.
import { emptyQueue, type CoreEvent } from '../../src/core/index.ts';
import type { QueueCi } from '../../src/config/repo.ts';
import type { DispatchContext } from '../../src/engine/effects.ts';

export function dispatchContext(ci: QueueCi, events: CoreEvent[] = [], queue = 'q'): DispatchContext {
  return {
    queue,
    file: {
      schema: 1,
      name: queue,
      state: emptyQueue(queue),
      outbox: [],
      notices: [],
      deliveries: [],
      historyMoved: 0,
      ci,
    },
    now: () => 1,
    submit: async (_q, e) => void events.push(e),
  };
}
