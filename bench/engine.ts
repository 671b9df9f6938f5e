// Benchmark of the engine and store, now and before the journal (the last commit with whole-file
// writes, checked out in a temporary git worktree), measured in the same run with the same scenarios:
// bytes written and time per event against the verdict history and the seen shas, events per second
// on 1 and 50 queues, and step latency with 1,000 changes queued. Bytes are what the process handed
// to write(2), read from /proc/self/io, so file formats and fsynced renames count as they are.
// Writes bench/results/engine.md. Run: npm run bench:engine [-- --before <commit>]
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CoreEvent, Effect, Run } from '../src/core/index.ts';
import type { DispatchContext, Performer } from '../src/engine/effects.ts';
import type { Engine as EngineClass, EngineOptions } from '../src/engine/engine.ts';
import { quantile } from '../src/sim/metrics.ts';
import { safeSlug } from '../src/store/slug.ts';
import type { Store } from '../src/store/types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
/** The last commit before the journal: one whole queue file written per step. */
const BEFORE = 'f037e44';

/** The engine and store of one version of the code. */
interface Version {
  label: string;
  Engine: new (opts: EngineOptions) => EngineClass;
  Store: new (dir: string) => Store;
}

async function load(label: string, from: string): Promise<Version> {
  const engine = (await import(pathToFileURL(join(from, 'src/engine/engine.ts')).href)) as {
    Engine: Version['Engine'];
  };
  const store = (await import(pathToFileURL(join(from, 'src/store/lowdb-store.ts')).href)) as {
    LowdbStore: Version['Store'];
  };
  return { label, Engine: engine.Engine, Store: store.LowdbStore };
}

/** Bytes this process has handed to write(2) so far. */
async function bytesWritten(): Promise<number> {
  const io = await readFile('/proc/self/io', 'utf8');
  return Number(/^wchar: (\d+)/m.exec(io)![1]);
}

/** A CI that passes every run at once (from inside the performer, as a fast callback would), or never. */
class StandInCi implements Performer {
  constructor(private readonly answers: boolean) {}
  async perform(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<void> {
    if (this.answers && entry.effect.type === 'dispatch')
      await ctx.submit(ctx.queue, {
        type: 'run-finished',
        at: ctx.now(),
        key: entry.effect.run.key,
        status: 'success',
      });
  }
  async alreadyDone(): Promise<boolean> {
    return false;
  }
  async resume(_run: Run): Promise<void> {}
}

const merge = (queue: string, i: number, stream = 'main'): CoreEvent => ({
  type: 'merged',
  at: i,
  stream: { host: 'git', project: queue, branch: stream },
  changes: [{ id: `${queue}#${stream}${i}`, sha: `${queue}-${stream}-sha-${i}`, title: `change ${i}` }],
});

/** One event with `n` changes; `skipped` ones get their verdict at once, others wait on `dependsOn`. */
function bulk(queue: string, stream: string, n: number, how: { skipped?: boolean; dependsOn?: string[] }): CoreEvent {
  return {
    type: 'merged',
    at: 0,
    stream: { host: 'git', project: queue, branch: stream },
    changes: Array.from({ length: n }, (_, i) => ({
      id: `${queue}#${stream}-bulk-${i}`,
      sha: `${queue}-${stream}-bulk-sha-${i}`,
      title: `bulk change ${i}`,
      ...(how.skipped ? { skipReason: 'docs only' } : {}),
      ...(how.dependsOn ? { dependsOn: how.dependsOn } : {}),
    })),
  };
}

interface Scene {
  /** Verdicts in the history file. */
  history: number;
  /** Shas the main stream has seen (each a change that got its verdict). */
  seenShas: number;
  /** Changes waiting in the queue the whole time (on a dependency that never comes). */
  live: number;
}

/** A data directory with `queues` queues set up as `scene` says; returns the engine on it. */
async function setUp(v: Version, dir: string, queues: string[], scene: Scene, answers = true) {
  const engine = new v.Engine({
    store: new v.Store(dir),
    performer: new StandInCi(answers),
    // no batch.hold: each merge is a lone change, and this measures the engine, not the wait for company
    settingsFor: () => ({ maxParallel: 1, holdShare: 0 }),
  });
  for (const q of queues) {
    if (scene.seenShas) await engine.submit(q, bulk(q, 'main', scene.seenShas, { skipped: true }));
    if (scene.live) await engine.submit(q, bulk(q, 'held', scene.live, { dependsOn: [`${q}#never`] }));
    const extra = scene.history - scene.seenShas;
    if (extra > 0) {
      const lines = Array.from({ length: extra }, (_, i) =>
        JSON.stringify({ seq: 1_000_000 + i, change: `old#${i}`, verdict: 'passed', at: i, run: `q.${i}` }),
      );
      await appendFile(join(dir, 'history', `${safeSlug(q)}.jsonl`), lines.join('\n') + '\n');
    }
  }
  await engine.idle();
  return engine;
}

/** Closes an engine that can be closed (the one before the journal has nothing to close). */
async function close(engine: EngineClass): Promise<void> {
  const closable = engine as Partial<Pick<EngineClass, 'close'>>;
  if (closable.close) await closable.close();
  else await engine.idle();
}

/** Bytes and time per event for `iterations` merges, each passed at once (two core events). */
async function perEvent(v: Version, scene: Scene, iterations: number) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-'));
  const engine = await setUp(v, dir, ['q'], scene);
  const bytes = await bytesWritten();
  const started = performance.now();
  for (let i = 1; i <= iterations; i++) await engine.submit('q', merge('q', i), { delivery: `d-${i}` });
  await engine.idle();
  const ms = performance.now() - started;
  const written = (await bytesWritten()) - bytes;
  await close(engine);
  await rm(dir, { recursive: true, force: true });
  return { bytesPerEvent: written / (2 * iterations), msPerEvent: ms / (2 * iterations) };
}

/** Events per second and submit latency over `queues` queues, merging concurrently. */
async function throughput(v: Version, queues: number, iterations: number, scene: Scene) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-'));
  const names = Array.from({ length: queues }, (_, q) => `queue-${q}`);
  const engine = await setUp(v, dir, names, scene);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    names.map(async (q) => {
      for (let i = 1; i <= iterations; i++) {
        const t = performance.now();
        await engine.submit(q, merge(q, i), { delivery: `d-${i}` });
        latencies.push(performance.now() - t);
      }
    }),
  );
  await engine.idle();
  const seconds = (performance.now() - started) / 1000;
  await close(engine);
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const events = 2 * queues * iterations; // a merge and its result per iteration
  return { eventsPerSecond: events / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Submit latency of merges into a queue with `queued` changes waiting behind a run that never ends. */
async function queuedLatency(v: Version, queued: number, merges: number) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-'));
  const engine = await setUp(v, dir, [], { history: 0, seenShas: 0, live: 0 }, false);
  await engine.submit('q', merge('q', 0));
  for (let i = 1; i <= queued; i += 100)
    await engine.submit('q', {
      type: 'merged',
      at: i,
      stream: { host: 'git', project: 'q', branch: 'main' },
      changes: Array.from({ length: 100 }, (_, j) => ({ id: `q#w${i + j}`, sha: `q-w-${i + j}`, title: 'waiting' })),
    });
  const latencies: number[] = [];
  for (let i = 1; i <= merges; i++) {
    const t = performance.now();
    await engine.submit('q', merge('q', queued + i), { delivery: `d-${i}` });
    latencies.push(performance.now() - t);
  }
  await close(engine);
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** A worktree of the code before the journal, sharing this checkout's node_modules. */
async function checkoutBefore(commit: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-before-'));
  execFileSync('git', ['worktree', 'add', '--detach', dir, commit], { cwd: root, stdio: 'ignore' });
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  return {
    dir,
    remove: async () => {
      execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
    },
  };
}

/** How much the largest figure exceeds the smallest, in percent. */
const spread = (xs: number[]) => `+${Math.round((Math.max(...xs) / Math.min(...xs) - 1) * 100)}%`;
const n0 = (x: number) => Math.round(x).toLocaleString('en');
const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const { values } = parseArgs({ options: { before: { type: 'string', default: BEFORE } } });
  const worktree = await checkoutBefore(values.before!);
  try {
    const versions = [await load(`before (${values.before})`, worktree.dir), await load('now', root)];
    const perEventRows: string[] = [];
    const bytes: [number[], number[]] = [[], []];
    const scenes: [string, Scene][] = [
      ['1,000 verdicts of history', { history: 1_000, seenShas: 0, live: 0 }],
      ['10,000 verdicts of history', { history: 10_000, seenShas: 0, live: 0 }],
      ['100,000 verdicts of history', { history: 100_000, seenShas: 0, live: 0 }],
      ['10,000 verdicts, 5,000 seen shas', { history: 10_000, seenShas: 5_000, live: 0 }],
    ];
    for (const [name, scene] of scenes) {
      // now: long enough for several snapshots even of the largest queue, so that their bytes count
      const [b, a] = [await perEvent(versions[0]!, scene, 300), await perEvent(versions[1]!, scene, 3000)];
      log(`${name}: before ${JSON.stringify(b)} now ${JSON.stringify(a)}`);
      bytes[0].push(b.bytesPerEvent);
      bytes[1].push(a.bytesPerEvent);
      perEventRows.push(
        `| ${name} | ${n0(b.bytesPerEvent)} | ${n0(a.bytesPerEvent)} | ${b.msPerEvent.toFixed(2)} | ${a.msPerEvent.toFixed(2)} |`,
      );
    }
    const live: Scene = { history: 10_000, seenShas: 0, live: 200 };
    const rows: string[] = [];
    for (const [queues, iterations] of [
      [1, 1000],
      [50, 40],
    ] as const) {
      const [b, a] = [
        await throughput(versions[0]!, queues, iterations, live),
        await throughput(versions[1]!, queues, iterations, live),
      ];
      log(`${queues} queue(s): before ${JSON.stringify(b)} now ${JSON.stringify(a)}`);
      rows.push(
        `| ${queues} | ${n0(b.eventsPerSecond)} | ${n0(a.eventsPerSecond)} | ${b.p99.toFixed(2)} | ${a.p99.toFixed(2)} |`,
      );
    }
    const [qb, qa] = [await queuedLatency(versions[0]!, 1000, 300), await queuedLatency(versions[1]!, 1000, 300)];
    log(`1,000 queued: before ${JSON.stringify(qb)} now ${JSON.stringify(qa)}`);
    const doc = `# Engine and store

Generated by \`npm run bench:engine\` (bench/engine.ts) on ${new Date().toISOString().slice(0, 10)}, on this project's
2-core machine, with the store on the local disk. "Before" is commit \`${values.before}\` (one whole queue
file written, fsynced, per step), checked out in a temporary worktree and measured in the same run with
the same scenarios; "now" is this checkout (a journal record per step, a snapshot now and then).

Each iteration merges one change, with a delivery id (300 iterations before, 3,000 now: enough for
several snapshots of the largest queue, whose bytes count in the figure); a CI stand-in passes its run at once, so every
iteration is two core events (the merge and the result). The queues have \`batch.hold: 0\`: every merge is a lone
change, and the wait for company is the queue's choice, not the engine's cost. Bytes are all the process handed to write(2)
(from \`/proc/self/io\`): journal lines, snapshots, history, temporary files. They include the dedupe
sets (seen shas, forgotten ids, delivery ids), which now go to disk only with a snapshot.

## Targets

| target | before | now |
|---|---:|---:|
| bytes written per event ≤ 4 KB (the most of the four rows below) | ${n0(Math.max(...bytes[0]))} | ${n0(Math.max(...bytes[1]))} |
| flat within 20% over history and seen shas (largest row over smallest) | ${spread(bytes[0])} | ${spread(bytes[1])} |
| ≥ 500 events/s on one queue (200 live changes, 10,000 verdicts of history) | ${rows[0]!.split('|')[2]!.trim()} | ${rows[0]!.split('|')[3]!.trim()} |
| ≥ 1,500 events/s over 50 queues | ${rows[1]!.split('|')[2]!.trim()} | ${rows[1]!.split('|')[3]!.trim()} |
| step latency p99 < 20 ms with 1,000 changes queued (ms) | ${qb.p99.toFixed(2)} | ${qa.p99.toFixed(2)} |

## Bytes written and time per event

| queue | bytes per event, before | bytes per event, now | ms per event, before | ms per event, now |
|---|---:|---:|---:|---:|
${perEventRows.join('\n')}

## Throughput

Every queue holds 200 live changes (waiting on a dependency that never comes) besides the merges.

| queues | events per second, before | events per second, now | submit p99 (ms), before | submit p99 (ms), now |
|---:|---:|---:|---:|---:|
${rows.join('\n')}

## Step latency with 1,000 changes queued

300 merges into a queue whose 1,000 changes wait behind a run that never ends: p50 ${qb.p50.toFixed(2)} ms
before, ${qa.p50.toFixed(2)} ms now; p99 ${qb.p99.toFixed(2)} ms before, ${qa.p99.toFixed(2)} ms now.

Step latency is the time for one \`submit\` to return, which includes performing its effects (the
dispatch, whose result is recorded without waiting). With 50 queues the submits of different queues run
concurrently, each queue under its own lock.
`;
    await writeFile(join(here, 'results', 'engine.md'), doc);
    log('wrote bench/results/engine.md');
  } finally {
    await worktree.remove();
  }
}

await main();
