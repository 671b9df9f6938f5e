// An accepted change always gets a verdict: a few thousand Gerrit events (a ref-updated and a
// change-merged per submit) from 8 senders at once, over HTTP, into one queue whose CI passes every
// run; once the queue is idle, every change submitted has its verdict. Bounded by the number of
// events, not by time.
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { DispatchSpec } from '../../src/core/index.ts';
import type { DispatchContext, Dispatcher } from '../../src/engine/effects.ts';
import { Engine } from '../../src/engine/engine.ts';
import { RoutingPerformer } from '../../src/engine/performer.ts';
import { GerritClient } from '../../src/hosts/gerrit/client.ts';
import { GerritHost } from '../../src/hosts/gerrit/host.ts';
import { GerritReporter } from '../../src/hosts/gerrit/reporter.ts';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import { silentLogger } from '../../src/log.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { FakeGerrit } from '../helpers/fake-gerrit.ts';
import { offline } from '../helpers/network.ts';
import { configRules } from '../../src/registry.ts';

offline();

const SUBMITS = 1200;
const SENDERS = 8;
const GERRIT = 'https://gerrit.example.org';
const QUEUE = 'gerrit:gerrit.example.org/app@master';

/** A CI that passes every run a moment after it is sent, as a `command:` runner that exits 0. */
class PassingCi implements Dispatcher {
  async dispatch(run: DispatchSpec, ctx: DispatchContext): Promise<{ ciRunId: string }> {
    setImmediate(() => {
      void ctx.submit(ctx.queue, { type: 'run-finished', at: ctx.now(), key: run.key, status: 'success' });
    });
    return { ciRunId: run.key };
  }
}

describe('an accepted change always gets a verdict', () => {
  it(`gives every one of ${SUBMITS} changes, sent as ${2 * SUBMITS} events by ${SENDERS} senders at once, its verdict`, async () => {
    const fake = new FakeGerrit(GERRIT);
    fake.configFor = () => 'branches: [master]\nci: {provider: "command:ost", max_parallel: 2}\n';
    fake.install();
    nock.enableNetConnect('127.0.0.1');
    const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-load-')));
    const client = new GerritClient({ url: GERRIT, username: 'ost-gate', password: 'pw', minTimeout: 1 });
    const engine = new Engine({
      store,
      performer: new RoutingPerformer({
        dispatchers: { 'command:ost': new PassingCi() },
        reporters: { gerrit: new GerritReporter(client) },
      }),
    });
    const host = new GerritHost({
      client,
      rules: configRules,
      engine,
      eventsToken: 'tok',
      inboxDir: join(store.dataDir, 'gerrit-inbox'),
      providers: () => ['command:ost'],
    });
    const server = createHttpServer({ engine, log: silentLogger, mounts: [host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events?token=tok`;
    try {
      const events: GerritEvent[] = [];
      for (let n = 1; n <= SUBMITS; n++) events.push(...fake.submit([fake.upload('app', { number: n })]));
      let next = 0;
      const accepted: number[] = [];
      const sender = async () => {
        while (next < events.length) {
          const event = events[next++]!;
          const res = await fetch(url, { method: 'POST', body: JSON.stringify(event) });
          if (res.status === 202 && event.type === 'change-merged') accepted.push(Number(event.change!.number));
        }
      };
      await Promise.all(Array.from({ length: SENDERS }, sender));
      expect(accepted).toHaveLength(SUBMITS);
      // idle: every accepted event handled, every run's result in, every effect performed
      let state = (await engine.reads.queue(QUEUE))!.state;
      for (let i = 0; i < 10_000; i++) {
        await host.idle();
        state = (await engine.reads.queue(QUEUE))!.state;
        const open = Object.values(state.changes).filter((c) => c.state !== 'done').length;
        const running = Object.values(state.runs).some((r) => r.state === 'dispatched' || r.state === 'running');
        if (open === 0 && !running) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      const given = new Set([...state.verdicts.map((v) => v.change), ...state.forgotten]);
      const history = await store.readHistory(QUEUE, 10 * SUBMITS);
      for (const v of history) given.add(v.change);
      const missing = accepted.filter((n) => !given.has(`gerrit:gerrit.example.org/app~${n}`));
      expect(missing).toEqual([]);
      expect(Object.values(state.changes).filter((c) => c.state !== 'done')).toEqual([]);
    } finally {
      server.close();
      await engine.close();
    }
  }, 300_000);
});
