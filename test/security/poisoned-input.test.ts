// D6 and D7: input that used to drop work or poison a queue. An empty duration in a repo config is a
// config error that keeps the last good config (the change is still queued); a Gerrit event nested
// thousands of levels deep is refused before it is stored; a huge subject is cut; one broken queue
// does not stop the others' ticks.
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { beforeEach, describe, expect, it } from 'vitest';
import { step, emptyQueue } from '../../src/core/index.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { gerritBed, sampleEvents } from '../helpers/gerrit.ts';
import { offline } from '../helpers/network.ts';
import { freshQueueFile, readQueue } from '../../src/engine/replay.ts';

offline();
beforeEach(() => nock.enableNetConnect('127.0.0.1'));

const GOOD = 'branches: [master]\nci: {provider: jenkins, job: ost, timeout: 3h}\n';
const QUEUE = 'gerrit:gerrit.example.org/app@master';

describe('a config error never drops work (D6)', () => {
  it.each(['ci: {provider: jenkins, job: ost, timeout: ""}', 'broken: {recheck: ""}', 'dependencies: {timeout: " "}'])(
    'queues the change under the last good config when the new one has %s',
    async (bad) => {
      let config = GOOD;
      const bed = await gerritBed(() => config);
      bed.setBuilding(true);
      await bed.merge('app', { number: 1 });
      config = `branches: [master]\n${bad.startsWith('ci:') ? bad : `ci: {provider: jenkins, job: ost}\n${bad}`}\n`;
      await bed.merge('app', { number: 2, files: ['.ost-gate.yml'] });
      const file = (await readQueue(bed.store, QUEUE))!;
      expect(Object.keys(file.state.changes)).toEqual([
        'gerrit:gerrit.example.org/app~1',
        'gerrit:gerrit.example.org/app~2',
      ]);
      expect(file.repoConfig!.ci.timeout).toBe(3 * 3_600_000);
      expect(file.notices.find((n) => n.code === 'config-invalid')?.message).toMatch(/is not a duration/);
      expect(bed.reviews.at(-1)!.body.message).toMatch(/^ost-gate: config error\n.*is not valid/);
      bed.close();
    },
  );
});

describe('one event cannot poison a queue (D7)', () => {
  it('refuses a Gerrit event whose subject nests 3000 levels deep, and stores nothing', async () => {
    const bed = await gerritBed(() => GOOD);
    const server = createHttpServer({ engine: bed.engine, log: silentLogger, mounts: [bed.host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const event = sampleEvents().changeMerged;
      const subject = `${'['.repeat(3000)}${']'.repeat(3000)}`;
      const body = JSON.stringify(event).replace(/"subject":"[^"]*"/, `"subject":${subject}`);
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events`, {
        method: 'POST',
        body,
        headers: { authorization: 'Bearer events-token', 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(/nests deeper than 64 levels/);
      // a subject of the wrong type, shallow, is refused as well
      const typed = JSON.stringify({ ...event, change: { ...event.change, subject: ['x'] } });
      const res2 = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events`, {
        method: 'POST',
        body: typed,
        headers: { authorization: 'Bearer events-token', 'content-type': 'application/json' },
      });
      expect(res2.status).toBe(400);
      expect((await res2.json()).error).toMatch(/change\.subject/);
      expect(await bed.store.listQueues()).toEqual([]);
    } finally {
      server.close();
      bed.close();
    }
  });

  it('keeps a title of 10 MB as its first 300 characters', () => {
    const { state } = step(emptyQueue('q'), {
      type: 'merged',
      at: 1,
      stream: { host: 'git', project: 'p', branch: 'main' },
      changes: [
        { id: 'git:p@a', sha: 'a', title: 'x'.repeat(10 * 1024 * 1024), url: 'javascript:' + 'y'.repeat(3000) },
      ],
    });
    expect(state.changes['git:p@a']!.title!.length).toBe(300);
    expect(state.changes['git:p@a']!.url).toBeNull();
  });

  it('ticks the other queues when one queue file is unreadable', async () => {
    const bed = await gerritBed(() => GOOD);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    // a queue the engine has not loaded yet, whose loading then fails
    await bed.store.writeSnapshot(freshQueueFile('0-broken'));
    const store = bed.store as unknown as { loadQueue(q: string): Promise<unknown> };
    const load = store.loadQueue.bind(bed.store);
    store.loadQueue = async (q: string) => {
      if (q === '0-broken') throw new Error('snapshot is not JSON');
      return load(q);
    };
    expect((await bed.engine.reads.queues())[0]).toBe('0-broken');
    const key = Object.keys((await readQueue(bed.store, QUEUE))!.state.runs)[0]!;
    // past ci.timeout (3 h): the run of the healthy queue times out although the broken queue ticks first
    const tickAt = Date.now() + 4 * 3_600_000;
    (bed.engine as unknown as { now: () => number }).now = () => tickAt;
    await bed.engine.tick();
    const run = (await readQueue(bed.store, QUEUE))!.state.runs[key]!;
    expect(run.state).toBe('timed-out');
    bed.close();
  });
});
