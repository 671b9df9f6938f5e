// Gerrit and Jenkins test beds: the real engine, store and Gerrit host, a stand-in Gerrit that moves
// branches as its submit types do and sends the documented events (fake-gerrit.ts), and a nock
// stand-in for Jenkins.
import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JenkinsDispatcher } from '../../src/ci/jenkins/dispatcher.ts';
import { Engine } from '../../src/engine/engine.ts';
import { RoutingPerformer } from '../../src/engine/performer.ts';
import { GerritClient } from '../../src/hosts/gerrit/client.ts';
import { GerritHost } from '../../src/hosts/gerrit/host.ts';
import { GerritReverter } from '../../src/hosts/gerrit/revert.ts';
import { plannedReverts } from '../../src/revert/plan.ts';
import { GerritReporter } from '../../src/hosts/gerrit/reporter.ts';
import { gerritChangeLabel } from '../../src/hosts/gerrit/events.ts';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import type { SharedQueue } from '../../src/config/repo.ts';
import { FakeGerrit, type FakeChange, type SubmitType } from './fake-gerrit.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { configRules } from '../../src/registry.ts';

export const GERRIT = 'https://gerrit.example.org';
export const JENKINS = 'https://jenkins.example.org';

/**
 * Documented event samples without a bed: a change merged by a fast-forward submit, and the
 * ref-updated before it, in Gerrit 3's format or the old one (numbers as strings, a bare refName,
 * no newRev).
 */
export function sampleEvents(project = 'app', number = 1, oldStyle = false) {
  const fake = new FakeGerrit(GERRIT);
  const c = fake.upload(project, { number });
  const [refUpdated, changeMerged] = fake.submit([c], 'FAST_FORWARD_ONLY') as [GerritEvent, GerritEvent];
  if (!oldStyle) return { refUpdated, changeMerged };
  const { newRev: _newRev, ...merged } = changeMerged;
  return {
    refUpdated: { ...refUpdated, refUpdate: { ...refUpdated.refUpdate!, refName: 'master' } },
    changeMerged: {
      ...merged,
      change: { ...merged.change!, number: String(number) },
      patchSet: { ...merged.patchSet!, number: String(merged.patchSet!.number) },
    },
  };
}

export function commentAdded(project: string, n: number, text: string, user = 'alice', owner = 'dev'): GerritEvent {
  return {
    type: 'comment-added',
    change: { project, branch: 'master', number: n, subject: 's', owner: { username: owner } },
    patchSet: { number: 1, revision: `rev-${project}-${n}` },
    author: { name: user, username: user },
    approvals: [{ type: 'Code-Review', value: '0' }],
    comment: `Patch Set 1: Code-Review+1\n\n${text}`,
    eventCreatedOn: 2,
  } as GerritEvent;
}

export interface GerritBedOptions {
  /** The queues the server config declares. */
  sharedQueues?: Record<string, SharedQueue>;
  /** The CI providers the server says it has when a config is checked; by default the ones it runs. */
  providers?: () => readonly string[];
}

/**
 * The real engine, store, Gerrit host and reporter against a stand-in Gerrit (fake-gerrit.ts) and a
 * stand-in Jenkins whose builds fail when `setFails` says so of their OST_REFS.
 */
export async function gerritBed(configFor: (project: string) => string | null, opts: GerritBedOptions = {}) {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-gerrit-')));
  const client = new GerritClient({ url: GERRIT, username: 'ost-gate', password: 'secret', minTimeout: 1 });
  const fake = new FakeGerrit(GERRIT);
  fake.configFor = configFor;
  const gerrit = fake.install();
  // Jenkins: a build fails when its OST_REFS hold a culprit
  const builds: Record<string, string>[] = [];
  let fails: (refs: Record<string, string>) => boolean = () => false;
  let building = false;
  const jenkins = nock(JENKINS).persist();
  jenkins.post('/job/ost/buildWithParameters').reply((_uri, body) => {
    builds.push(Object.fromEntries(new URLSearchParams(String(body))));
    return [201, '', { location: `${JENKINS}/queue/item/${builds.length}/` }];
  });
  // cancelling: Jenkins redirects to the build or the queue page
  jenkins.post(/\/job\/ost\/\d+\/stop/).reply(302, '', { location: `${JENKINS}/job/ost/` });
  jenkins.post(/\/queue\/cancelItem/).reply(302, '', { location: `${JENKINS}/queue/` });
  jenkins
    .get(/\/queue\/item\/\d+\/api\/json/)
    .reply((uri) => [200, { executable: { url: `${JENKINS}/job/ost/${/item\/(\d+)/.exec(uri)![1]}/` } }]);
  // these builds publish no JUnit test report: Jenkins answers 404 there
  jenkins.get(/\/job\/ost\/\d+\/testReport\/api\/json/).reply(404, '<html><body>Not Found</body></html>');
  jenkins.get(/\/job\/ost\/\d+\/api\/json/).reply((uri) => {
    const n = Number(/ost\/(\d+)\//.exec(uri)![1]);
    const refs = JSON.parse(builds[n - 1]?.OST_REFS ?? '{}') as Record<string, string>;
    return [
      200,
      building ? { building: true, result: null } : { building: false, result: fails(refs) ? 'FAILURE' : 'SUCCESS' },
    ];
  });
  const dispatchers = {
    jenkins: new JenkinsDispatcher({
      url: JENKINS,
      user: 'ost',
      token: 't',
      callbackUrl: 'http://ost/api/ci/callback',
      pollMs: 5,
      minTimeout: 1,
    }),
  };
  const reporter = new GerritReporter(client);
  const engine = new Engine({
    store,
    performer: new RoutingPerformer({
      dispatchers,
      reporters: { gerrit: reporter },
      reverters: { gerrit: new GerritReverter(client) },
      labels: { gerrit: gerritChangeLabel },
    }),
    moreEffects: (file, effects) => plannedReverts(file, effects),
  });
  const host = new GerritHost({
    client,
    rules: configRules,
    engine,
    eventsToken: 'events-token',
    serviceUser: 'ost-gate',
    inboxDir: join(store.dataDir, 'gerrit-inbox'),
    ...(opts.sharedQueues ? { sharedQueues: opts.sharedQueues } : {}),
    providers: opts.providers ?? (() => Object.keys(dispatchers)),
  });
  // events arrive as Gerrit's webhooks plugin posts them: over HTTP, to the real server's intake
  let server: Server | null = null;
  const intake = async (): Promise<string> => {
    if (!server) {
      nock.enableNetConnect('127.0.0.1');
      server = createHttpServer({ engine, log: silentLogger, mounts: [host.mount] });
      await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
    }
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events`;
  };
  /** Posts each event to /gerrit/events as the webhooks plugin does, then waits until all are handled. */
  const send = async (events: GerritEvent[]) => {
    const url = await intake();
    for (const e of events) {
      const res = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(e),
        headers: { authorization: 'Bearer events-token', 'content-type': 'application/json' },
      });
      if (res.status !== 202) throw new Error(`/gerrit/events answered ${res.status}: ${await res.text()}`);
    }
    await host.idle();
  };
  return {
    store,
    engine,
    host,
    client,
    fake,
    reviews: fake.reviews,
    builds,
    gerrit,
    send,
    /** Uploads a change to `project` and submits it (default: merge if necessary), handling Gerrit's events. */
    async merge(
      project: string,
      change: Parameters<FakeGerrit['upload']>[1] & { type?: SubmitType } = {},
    ): Promise<FakeChange> {
      const c = fake.upload(project, change);
      await send(fake.submit([c], change.type));
      return c;
    },
    setFails(f: (refs: Record<string, string>) => boolean) {
      fails = f;
    },
    /** Keep every Jenkins build running until called with false. */
    setBuilding(b: boolean) {
      building = b;
    },
    close() {
      dispatchers.jenkins.stop();
      server?.close();
    },
    /** Waits until `done()` or the time runs out (Jenkins results arrive by polling). */
    async until(done: () => Promise<boolean>, ms = 60_000) {
      const end = Date.now() + ms;
      while (!(await done())) {
        if (Date.now() > end) throw new Error('timed out waiting');
        await new Promise((r) => setTimeout(r, 10));
      }
      await engine.idle();
    },
  };
}
