// Benchmark of the engine and lowdb store: bytes written and time per event against verdict history
// of 1k, 10k and 100k entries, and events per second on 1 and 50 queues with p50/p99 step latency.
// Writes bench/results/engine.md. Run: npm run bench:engine
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreEvent, Effect, Run, VerdictRecord } from '../src/core/index.ts';
import type { DispatchContext, Performer } from '../src/engine/effects.ts';
import { Engine } from '../src/engine/engine.ts';
import { quantile } from '../src/sim/metrics.ts';
import { LowdbStore } from '../src/store/lowdb-store.ts';
import type { QueueFile } from '../src/store/types.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** A store that counts what it writes. */
class CountingStore extends LowdbStore {
  bytes = 0;
  writes = 0;
  override async saveQueue(file: QueueFile): Promise<void> {
    this.bytes += Buffer.byteLength(JSON.stringify(file));
    this.writes += 1;
    return super.saveQueue(file);
  }
  override async appendHistory(name: string, verdicts: VerdictRecord[], firstSeq: number): Promise<void> {
    this.bytes += verdicts.reduce((n, v) => n + Buffer.byteLength(JSON.stringify(v)) + 12, 0);
    return super.appendHistory(name, verdicts, firstSeq);
  }
}

/** A CI that passes every run at once, from inside the performer (as a fast callback would). */
class InstantCi implements Performer {
  async perform(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<void> {
    if (entry.effect.type === 'dispatch')
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

const merge = (queue: string, i: number): CoreEvent => ({
  type: 'merged',
  at: i,
  stream: { host: 'git', project: queue, branch: 'main' },
  changes: [{ id: `${queue}#${i}`, sha: `${queue}-sha-${i}`, title: `change ${i}` }],
});

async function historyRun(historySize: number, events: number) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-'));
  const store = new CountingStore(dir);
  const performer = new InstantCi();
  const engine = new Engine({ store, performer, settingsFor: () => ({ maxParallel: 1 }) });
  // Steady state: `historySize` verdicts already happened, the newest 200 in the file, the rest in history.
  await engine.submit('q', merge('q', 0));
  await engine.idle();
  const file = (await store.loadQueue('q'))!;
  const old: VerdictRecord[] = Array.from({ length: historySize }, (_, i) => ({
    change: `old#${i}`,
    verdict: 'passed',
    at: i,
    run: `q.${i}`,
  }));
  await store.appendHistory('q', old.slice(0, Math.max(0, historySize - 200)), 0);
  file.historyMoved = Math.max(0, historySize - 200);
  file.state.verdicts = old.slice(-200);
  await store.saveQueue(file);
  store.bytes = 0;
  store.writes = 0;
  const started = performance.now();
  for (let i = 1; i <= events; i++) await engine.submit('q', merge('q', i));
  await engine.idle();
  const ms = performance.now() - started;
  await rm(dir, { recursive: true, force: true });
  // each merge leads to a dispatch and a result: two core events
  return {
    bytesPerEvent: store.bytes / (2 * events),
    msPerEvent: ms / (2 * events),
    writesPerEvent: store.writes / (2 * events),
  };
}

async function throughput(queues: number, eventsPerQueue: number) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-bench-'));
  const store = new LowdbStore(dir);
  const engine = new Engine({ store, performer: new InstantCi(), settingsFor: () => ({ maxParallel: 1 }) });
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: queues }, async (_, q) => {
      for (let i = 1; i <= eventsPerQueue; i++) {
        const t = performance.now();
        await engine.submit(`queue-${q}`, merge(`queue-${q}`, i));
        latencies.push(performance.now() - t);
      }
    }),
  );
  await engine.idle();
  const seconds = (performance.now() - started) / 1000;
  await rm(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const events = 2 * queues * eventsPerQueue; // a merge and its result per iteration
  return { eventsPerSecond: events / seconds, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function main() {
  const rows: string[] = [];
  for (const size of [1_000, 10_000, 100_000]) {
    const r = await historyRun(size, 300);
    rows.push(
      `| ${size.toLocaleString('en')} | ${Math.round(r.bytesPerEvent).toLocaleString('en')} | ${r.writesPerEvent.toFixed(2)} | ${r.msPerEvent.toFixed(2)} |`,
    );
    process.stderr.write(`history ${size}: ${JSON.stringify(r)}\n`);
  }
  const one = await throughput(1, 400);
  process.stderr.write(`1 queue: ${JSON.stringify(one)}\n`);
  const fifty = await throughput(50, 20);
  process.stderr.write(`50 queues: ${JSON.stringify(fifty)}\n`);
  const doc = `# Engine and store

Generated by \`npm run bench:engine\` (bench/engine.ts) on ${new Date().toISOString().slice(0, 10)}, on this project's
2-core machine, with the lowdb store on the local disk. Each iteration merges one change; a CI stand-in
passes its run at once, so every iteration is two core events (the merge and the result), each one
step under the queue lock with one atomic, fsynced write of state and outbox, plus the write that clears the outbox.

## Bytes written and time per event against the size of the verdict history

The queue file keeps the newest 200 verdicts; older ones are appended to \`history/<slug>.jsonl\`, so
the cost of a write follows the queue, not the history.

| verdicts in history | bytes written per event | file writes per event | ms per event |
|---:|---:|---:|---:|
${rows.join('\n')}

## Throughput

| queues | events per second | step latency p50 (ms) | step latency p99 (ms) |
|---:|---:|---:|---:|
| 1 | ${one.eventsPerSecond.toFixed(0)} | ${one.p50.toFixed(2)} | ${one.p99.toFixed(2)} |
| 50 | ${fifty.eventsPerSecond.toFixed(0)} | ${fifty.p50.toFixed(2)} | ${fifty.p99.toFixed(2)} |

Step latency is the time for one \`submit\` of a merge to return, which includes performing its
effects (the dispatch, whose result is recorded without waiting). With 50 queues the submits of
different queues run concurrently, each queue under its own lock.
`;
  await writeFile(join(here, 'results', 'engine.md'), doc);
  process.stderr.write('wrote bench/results/engine.md\n');
}

await main();
