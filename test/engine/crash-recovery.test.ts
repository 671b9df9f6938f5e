// Crash recovery: a server process is killed with SIGKILL at random points (at least 50 times over
// different seeds) and started again each time. Its final verdicts must equal those of a run that was
// never killed, no report may be made twice, and no queue file may ever be unreadable. The first three
// starts of each seed stop at one of the store's write points in turn: a snapshot on disk but not
// renamed, renamed but the journal not emptied, the journal emptied.
// The worker is bundled to plain JavaScript once, so that each restart costs a Node start, not a
// TypeScript compile: the test is bounded by its number of kills, not by how busy the machine is.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../../src/sim/random.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { bundleCrashWorker, startWorker, type WorkerRun } from '../helpers/crash-worker-run.ts';
import type { WritePoint } from '../../src/store/lowdb-store.ts';

let worker: Awaited<ReturnType<typeof bundleCrashWorker>>;
beforeAll(async () => {
  worker = await bundleCrashWorker();
});
afterAll(() => worker.remove());

const QUEUE = 'crash-test';
/** Starts per seed that end at a store write point. */
const POINT_STARTS = 3;

/** Starts the worker; see startWorker. */
const start = (dataDir: string, reports: string, killAfterMs: number | null, stopAt?: WorkerRun['stopAt']) =>
  startWorker(worker.path, { dataDir, reports, killAfterMs, stopAt });

/** The store's write points a start may stop at, each in turn. */
const POINTS: WritePoint[] = ['snapshot-on-disk', 'snapshot-renamed', 'journal-emptied'];

async function verdicts(dataDir: string): Promise<Record<string, string>> {
  const store = new LowdbStore(dataDir, { readOnly: true });
  const file = (await readQueue(store, QUEUE))!;
  const all = [...(await store.readHistory(QUEUE, 10_000)), ...file.state.verdicts].filter((v) => !v.retracted);
  return Object.fromEntries(
    all.map((v) => [v.change, `${v.verdict}${v.culprit && v.culprit !== v.change ? `<${v.culprit}` : ''}`]),
  );
}

/** Every snapshot matches its checksum, and the journal after it has no damage but a torn last line. */
async function queueFilesRead(dataDir: string): Promise<void> {
  const store = new LowdbStore(dataDir, { readOnly: true });
  expect(await store.unreadableFiles(), 'snapshots after a kill').toEqual([]);
  for (const queue of await store.listQueues()) await store.loadQueue(queue);
}

describe('crash recovery', () => {
  it('reaches the same verdicts after at least 50 SIGKILLs, with every report made exactly once', async () => {
    const base = await mkdtemp(join(tmpdir(), 'ost-crash-'));
    const reference = join(base, 'reference');
    expect((await start(reference, join(base, 'reference.jsonl'), null)).code).toBe(0);
    const expected = await verdicts(reference);
    expect(Object.values(expected).filter((v) => v === 'culprit')).toHaveLength(1);
    expect(expected['a7']).toBe('culprit');

    let kills = 0;
    const points = new Map<string, number>();
    for (let seed = 1; seed <= 10; seed++) {
      const rng = seeded(seed);
      const dataDir = join(base, `seed-${seed}`);
      const reports = join(base, `seed-${seed}.jsonl`);
      let finished = false;
      let killsHere = 0;
      for (let attempt = 0; attempt < 40 && !finished; attempt++) {
        // the first starts stop themselves at a write point of a snapshot or of the journal's rotation
        // (each point in turn, the next time it is reached: set by counts, never by how fast the machine
        // is); the next ones are killed at a random moment; the last one runs to its end
        const atPoint = attempt < POINT_STARTS;
        const stopAt = atPoint ? POINTS[(seed + attempt) % POINTS.length]! : undefined;
        const killAt = !atPoint && killsHere < POINT_STARTS + 6 ? Math.floor(rng.next() * 150) : null;
        const outcome = await start(dataDir, reports, killAt, stopAt);
        if (stopAt) expect(outcome.point, `start ${attempt} of seed ${seed}`).toBe(stopAt);
        if (outcome.killed) {
          kills += 1;
          killsHere += 1;
          if (outcome.point) points.set(outcome.point, (points.get(outcome.point) ?? 0) + 1);
        } else {
          expect(outcome.code).toBe(0);
          finished = true;
        }
        await queueFilesRead(dataDir);
      }
      expect(finished).toBe(true);
      expect(await verdicts(dataDir), `seed ${seed}`).toEqual(expected);
      const lines = (await readFile(reports, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { key: string });
      const counts = new Map<string, number>();
      for (const l of lines) counts.set(l.key, (counts.get(l.key) ?? 0) + 1);
      expect(
        [...counts.entries()].filter(([, n]) => n > 1),
        `reports made twice, seed ${seed}`,
      ).toEqual([]);
    }
    console.log('KILLS', kills, JSON.stringify([...points]));
    expect(kills).toBeGreaterThanOrEqual(50);
    // every write point of a snapshot and of the journal's rotation was hit by a kill
    expect([...points.keys()].sort()).toEqual(['journal-emptied', 'snapshot-on-disk', 'snapshot-renamed']);
  }, 900_000); // a hang guard only: about 60 starts of a plain Node process
});
