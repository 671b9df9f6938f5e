// The interface a batching policy implements: how the changes no run covers yet go out. Search
// strategies (strategies/) decide how a failure is searched; a batching policy decides the runs over
// new changes around it.
import type { LineView } from '../lines.ts';
import type { QueueSettings, QueueState } from '../types.ts';

/** The queue settings a batching policy sets the defaults of; a repo config's `batch:` values win. */
export type BatchSettings = Pick<QueueSettings, 'batchMaxInFlight' | 'speculate' | 'holdShare'>;

/** A lone change held for company, and when it goes out anyway. */
export interface HeldChange {
  id: string;
  until: number;
}

export interface BatchingPolicy {
  /** The name a repo config gives in `batch.policy`, and the simulator in `--batching`. */
  readonly name: string;
  /** Its defaults of the batch settings. */
  readonly defaults: Readonly<BatchSettings>;
  /** Whether runs over new changes go out while a failure is searched (and are kept when a culprit is found). */
  batchesWhileSearching(settings: QueueSettings): boolean;
  /**
   * The ends (positions in the line) of the runs to send now over the line's untested tail, oldest
   * first, at most `free` of them; each run covers the line up to its end.
   */
  batchEnds(line: LineView, settings: QueueSettings, free: number): number[];
  /** The lone change of the main line held for company, or null when nothing is held at `at`. */
  held(state: QueueState, main: LineView, at: number): HeldChange | null;
}
