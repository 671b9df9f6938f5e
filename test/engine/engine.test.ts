// Tests of the engine: state and outbox written before effects, recovery, idempotent deliveries, history.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { CoreEvent, Effect, Run } from '../../src/core/index.ts';
import type { DispatchContext, Performer } from '../../src/engine/effects.ts';
import { Engine, VERDICTS_KEPT } from '../../src/engine/engine.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import type { Store } from '../../src/store/types.ts';
import { STORE_KINDS, storeKinds, type StoreKind } from '../helpers/stores.ts';
import { ciTarget } from '../../src/config/repo.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { configRules } from '../../src/registry.ts';

const S = { host: 'git', project: 'app', branch: 'main' };
const merged = (ids: string[], at = 0, before = 'base'): CoreEvent => ({
  type: 'merged',
  at,
  stream: S,
  before,
  after: `sha-${ids.at(-1)}`,
  changes: ids.map((id, i) => ({ id, sha: `sha-${id}`, parent: i === 0 ? before : `sha-${ids[i - 1]}` })),
});

class RecordingPerformer implements Performer {
  performed: { key: string; effect: Effect; outboxHadIt: boolean }[] = [];
  failNext = 0;
  done = new Set<string>();
  constructor(private readonly store: Store) {}
  async perform(entry: { key: string; effect: Effect }, ctx: DispatchContext): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('host is down');
    }
    const onDisk = await readQueue(this.store, ctx.queue);
    this.performed.push({ ...entry, outboxHadIt: !!onDisk?.outbox.some((e) => e.key === entry.key) });
    this.done.add(entry.key);
  }
  async alreadyDone(entry: { key: string }): Promise<boolean> {
    return this.done.has(entry.key);
  }
  resumed: Run[] = [];
  async resume(run: Run): Promise<void> {
    this.resumed.push(run);
  }
}

/** The store kinds every test of the engine's bookkeeping runs on (PostgreSQL from before the first test). */
const stores = storeKinds();

async function setup(kind: StoreKind = 'embedded') {
  const { store, reopen } = await stores.make(kind);
  const performer = new RecordingPerformer(store);
  const engine = new Engine({ store, performer, settingsFor: () => ({ maxParallel: 1 }) });
  return { store, reopen, performer, engine };
}

describe.each(STORE_KINDS)('Engine on the %s store', (kind) => {
  it('writes the new state and its effects to disk before performing any effect, then clears them', async () => {
    const { store, performer, engine } = await setup(kind);
    await engine.submit('q', merged(['a', 'b']));
    expect(performer.performed.map((p) => p.effect.type)).toEqual(['dispatch']);
    expect(performer.performed.every((p) => p.outboxHadIt)).toBe(true);
    const file = await readQueue(store, 'q');
    expect(file!.outbox).toEqual([]);
    expect(file!.state.active).toEqual(['a', 'b']);
  });

  it('keeps an effect that failed in the outbox and performs it on recovery', async () => {
    const { store, performer, engine } = await setup(kind);
    performer.failNext = 1;
    await engine.submit('q', merged(['a']));
    expect((await readQueue(store, 'q'))!.outbox).toHaveLength(1);
    const again = new Engine({ store, performer });
    await again.recover();
    const [runKey] = Object.keys((await readQueue(store, 'q'))!.state.runs);
    expect(performer.performed.map((p) => p.key)).toEqual([`dispatch:${runKey}`]);
    expect((await readQueue(store, 'q'))!.outbox).toEqual([]);
  });

  it('does not repeat an effect that took before a crash cut the bookkeeping short', async () => {
    const { store, performer, engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    const file = (await readQueue(store, 'q'))!;
    // pretend the process died after performing, before removing the entry
    const key = performer.performed[0]!.key;
    file.outbox.push({ id: 'x', key, effect: performer.performed[0]!.effect });
    await store.writeSnapshot(file);
    await new Engine({ store, performer }).recover();
    expect(performer.performed.filter((p) => p.key === key)).toHaveLength(1);
    expect((await readQueue(store, 'q'))!.outbox).toEqual([]);
  });

  it('lets dispatchers pick up runs in flight on recovery', async () => {
    const { store, performer, engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    await new Engine({ store, performer }).recover();
    expect(performer.resumed.map((r) => r.end)).toEqual(['a']);
  });

  it('applies a delivery once: a redelivery with the same id changes nothing', async () => {
    const { store, engine } = await setup(kind);
    expect(await engine.submit('q', merged(['a']), { delivery: 'd1' })).toBe(true);
    const before = JSON.stringify(await readQueue(store, 'q'));
    expect(await engine.submit('q', merged(['a', 'b'], 1), { delivery: 'd1' })).toBe(false);
    expect(JSON.stringify(await readQueue(store, 'q'))).toBe(before);
  });

  it('serialises events of one queue: concurrent submits all land', async () => {
    const { store, engine } = await setup(kind);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        engine.submit('q', { type: 'merged', at: i, stream: S, changes: [{ id: `c${i}`, sha: `s${i}` }] }),
      ),
    );
    expect((await readQueue(store, 'q'))!.state.seq).toBeGreaterThanOrEqual(20);
    expect(Object.keys((await readQueue(store, 'q'))!.state.changes)).toHaveLength(20);
  });

  it('moves verdicts beyond the kept number to the history file when it writes a snapshot', async () => {
    const { store, engine } = await setup(kind);
    const n = VERDICTS_KEPT + 30;
    await engine.submit('q', {
      type: 'merged',
      at: 0,
      stream: S,
      changes: Array.from({ length: n }, (_, i) => ({ id: `d${i}`, sha: `x${i}`, skipReason: 'docs only' })),
    });
    expect((await readQueue(store, 'q'))!.state.verdicts).toHaveLength(n);
    await engine.close();
    const file = (await readQueue(store, 'q'))!;
    expect(file.state.verdicts).toHaveLength(VERDICTS_KEPT);
    expect(file.historyMoved).toBe(30);
    const history = await store.readHistory('q', 100);
    expect(history.map((v) => v.change)).toEqual(Array.from({ length: 30 }, (_, i) => `d${i}`));
  });

  it('writes a step as one journal record, and on close a snapshot that holds the same queue', async () => {
    const { store, reopen, engine } = await setup(kind);
    await engine.submit('q', merged(['a', 'b']), { delivery: 'd1' });
    const stored = (await store.loadQueue('q'))!;
    // the merge with its dispatch, then the dispatch marked done
    expect(stored.journal.map((r) => r.type)).toEqual(['step', 'done']);
    expect(stored.journal[0]).toMatchObject({ n: 1, delivery: 'd1', outbox: [{ effect: { type: 'dispatch' } }] });
    const live = JSON.stringify(await engine.reads.queue('q'));
    await engine.close();
    const after = (await reopen().loadQueue('q'))!;
    expect(after.journal).toEqual([]);
    expect(JSON.stringify(after.snapshot)).toBe(live);
  });

  it('loads a queue by replaying its journal: a second engine sees what the first did', async () => {
    const { reopen, performer, engine } = await setup(kind);
    await engine.submit('q', merged(['a']), { delivery: 'd1' });
    await engine.submit('q', merged(['b'], 1, 'sha-a'), { delivery: 'd2' });
    const again = new Engine({ store: reopen(), performer });
    expect(JSON.stringify(await again.reads.queue('q'))).toBe(JSON.stringify(await engine.reads.queue('q')));
    expect(await again.submit('q', merged(['b'], 1, 'sha-a'), { delivery: 'd2' })).toBe(false);
  });

  it('keeps nothing in memory for a queue that does not exist, however many names are asked for', async () => {
    const { engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    for (let i = 0; i < 500; i++) expect(await engine.reads.queue(`nope-${i}`)).toBeNull();
    expect((engine as unknown as { files: { loaded(): number } }).files.loaded()).toBe(1);
  });

  it('keeps notices for the dashboard', async () => {
    const { store, engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    await engine.submit('q', {
      type: 'merged',
      at: 1,
      stream: S,
      before: 'sha-a',
      after: 'sha-z',
      forced: true,
      changes: [{ id: 'z', sha: 'sha-z' }],
    });
    expect((await readQueue(store, 'q'))!.notices.map((n) => n.code)).toContain('history-rewritten');
  });

  it('writes nothing for a tick that changes nothing, and does for one that times a run out', async () => {
    const { store, engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    let saves = 0;
    const append = store.appendJournal.bind(store);
    store.appendJournal = async (q, record) => {
      saves += 1;
      return append(q, record);
    };
    expect(await engine.submit('q', { type: 'tick', at: 1 })).toBe(false);
    expect(saves).toBe(0);
    await engine.submit('q', { type: 'tick', at: 10 * 3_600_000 });
    expect(saves).toBeGreaterThan(0);
    expect(Object.values((await readQueue(store, 'q'))!.state.runs)[0]!.state).toBe('timed-out');
  });

  it('finds the queue of a change', async () => {
    const { engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    expect((await engine.reads.change('a'))?.queue).toBe('q');
    expect(await engine.reads.change('nope')).toBeNull();
  });

  it('answers again once the store answers again: a failed look over every queue is not kept', async () => {
    const { store, engine } = await setup(kind);
    await engine.submit('q', merged(['a']));
    const list = store.listQueues.bind(store);
    store.listQueues = () => Promise.reject(new Error('the database system is shutting down'));
    await expect(engine.reads.change('a')).rejects.toThrow(/shutting down/);
    store.listQueues = list;
    expect((await engine.reads.change('a'))?.queue).toBe('q');
  });

  it('applies a repo config once: the same config again writes nothing, a changed one is applied', async () => {
    const { store, engine } = await setup(kind);
    const config = configRules.parseRepo('ci: {provider: command:ost, max_parallel: 3}\n');
    await engine.configure('q', config, ciTarget(config), 0);
    expect((await readQueue(store, 'q'))!).toMatchObject({
      ci: { provider: 'command:ost' },
      state: { settings: { maxParallel: 3 } },
    });
    let saves = 0;
    const append = store.appendJournal.bind(store);
    store.appendJournal = async (q, record) => {
      saves += 1;
      return append(q, record);
    };
    await engine.configure('q', config, ciTarget(config), 1);
    expect(saves).toBe(0);
    const changed = configRules.parseRepo('ci: {provider: command:ost, max_parallel: 4}\n');
    await engine.configure('q', changed, ciTarget(changed), 2);
    expect((await readQueue(store, 'q'))!.state.settings.maxParallel).toBe(4);
  });
});

describe('effects of queues stepped in the same millisecond', () => {
  it('are all performed, though their outbox ids are the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ost-engine-'));
    const store = new LowdbStore(dir);
    let release: () => void = () => undefined;
    const held = new Promise<void>((ok) => (release = ok));
    const performed: string[] = [];
    const performer: Performer = {
      async perform(entry, ctx) {
        // queue a's dispatch is still being sent when queue b's effects are decided
        if (ctx.queue === 'a') await held;
        performed.push(`${ctx.queue} ${entry.effect.type}`);
      },
      alreadyDone: async () => false,
      resume: async () => undefined,
    };
    const engine = new Engine({ store, performer, now: () => 1_000, settingsFor: () => ({ maxParallel: 1 }) });
    const first = engine.submit('a', merged(['a1']));
    await vi.waitFor(() => expect(engine.reads.queue('a')).resolves.toMatchObject({ outbox: [expect.anything()] }));
    await engine.submit('b', merged(['b1']), { wait: true });
    expect(performed).toEqual(['b dispatch']);
    release();
    await first;
    expect(performed).toEqual(['b dispatch', 'a dispatch']);
  });
});

describe('Engine.idle', () => {
  it('waits for the effects of a step that held the lock when it was called', async () => {
    const { performer, engine } = await setup();
    const submitted = engine.submit('q', merged(['a']));
    await engine.idle();
    expect(performer.performed.map((p) => p.effect.type)).toEqual(['dispatch']);
    await submitted;
    await engine.close();
  });
});

describe('Engine wake-up for a change held for company', () => {
  /**
   * An engine on a clock the test sets, whose first run took 100 ms, so that a lone change waits up
   * to 50 ms for company; change b merges alone at 200 (held until 250).
   */
  async function heldChangeAt200() {
    const dir = await mkdtemp(join(tmpdir(), 'ost-engine-'));
    const store = new LowdbStore(dir);
    const performer = new RecordingPerformer(store);
    const clock = { now: 0 };
    const engine = new Engine({
      store,
      performer,
      now: () => clock.now,
      settingsFor: () => ({ maxParallel: 1, holdShare: 0.5 }),
    });
    const dispatches = () => performer.performed.filter((p) => p.effect.type === 'dispatch');
    await engine.submit('q', merged(['a']));
    clock.now = 100;
    const key = dispatches()[0]!.key.replace('dispatch:', '');
    await engine.submit('q', { type: 'run-finished', at: clock.now, key, status: 'success' });
    clock.now = 200;
    await engine.submit('q', merged(['b'], clock.now, 'sha-a'));
    expect(dispatches()).toHaveLength(1);
    return { engine, clock, dispatches };
  }

  it('sends a lone change out when its hold ends, without waiting for the server tick', async () => {
    const { engine, clock, dispatches } = await heldChangeAt200();
    clock.now = 260; // past the hold; nobody ticks: the engine's own timer does
    await vi.waitFor(() => expect(dispatches()).toHaveLength(2), { timeout: 10_000, interval: 20 });
    expect((dispatches()[1]!.effect as Extract<Effect, { type: 'dispatch' }>).run.changes).toEqual(['b']);
    await engine.close();
  });

  it('sets the timer again when it fired before the hold ended (timers may fire early)', async () => {
    const { engine, clock, dispatches } = await heldChangeAt200();
    // the clock stands still before the hold's end (250): the timer fires, and its tick changes nothing
    clock.now = 240;
    await new Promise((r) => setTimeout(r, 120));
    await engine.idle();
    expect(dispatches()).toHaveLength(1);
    clock.now = 260; // now it is due: the timer set again sends it, with nobody ticking
    await vi.waitFor(() => expect(dispatches()).toHaveLength(2), { timeout: 10_000, interval: 20 });
    await engine.close();
  });
});

describe('the read model', () => {
  it('finds changes, runs (by key and by the CI id) and streams from indexes the steps keep current', async () => {
    const { engine, reopen } = await setup();
    await engine.submit('q', merged(['a']));
    await engine.submit('other', {
      ...(merged(['x']) as Extract<CoreEvent, { type: 'merged' }>),
      stream: { ...S, project: 'lib' },
    });
    expect(await engine.reads.change('a')).toMatchObject({ queue: 'q', id: 'a' });
    expect(await engine.reads.change('x')).toMatchObject({ queue: 'other' });
    expect(await engine.reads.change('nope')).toBeNull();
    const key = Object.keys((await engine.reads.queue('q'))!.state.runs)[0]!;
    await engine.submit('q', { type: 'run-started', at: 1, key, url: 'https://ci/1', ciRunId: 77 });
    expect((await engine.reads.run({ ciRunId: 77 }))?.run.key).toBe(key);
    expect((await engine.reads.run({ key }))?.queue).toBe('q');
    // a second engine on the same data finds them too, with nothing loaded yet
    const reader = reopen();
    const again = new Engine({ store: reader, performer: new RecordingPerformer(reader) });
    expect(await again.reads.change('x')).toMatchObject({ queue: 'other' });
    expect((await again.reads.run({ ciRunId: 77 }))?.queue).toBe('q');
    await engine.close();
  });
});
