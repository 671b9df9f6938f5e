// Gerrit and Jenkins test beds: events in the documented stream-events format (old and new field
// styles), nock stand-ins for Gerrit's REST API and Jenkins, and the real engine and store.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { JenkinsDispatcher } from '../../src/ci/jenkins.ts';
import { Engine } from '../../src/engine/engine.ts';
import { RoutingPerformer } from '../../src/engine/performer.ts';
import { GerritClient } from '../../src/hosts/gerrit/client.ts';
import { GerritHost } from '../../src/hosts/gerrit/host.ts';
import { GerritReporter } from '../../src/hosts/gerrit/reporter.ts';
import { gerritChangeLabel } from '../../src/hosts/gerrit/events.ts';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import { LowdbStore } from '../../src/store/lowdb-store.ts';

export const GERRIT = 'https://gerrit.example.org';
export const JENKINS = 'https://jenkins.example.org';
export const sha = (project: string, n: number) => `${project.length}${n}`.padEnd(40, 'a');

/** change-merged as Gerrit 3.x sends it (numbers as ints, newRev). */
export function changeMerged(
  project: string,
  n: number,
  extra: Partial<GerritEvent['change']> = {},
  oldStyle = false,
): GerritEvent {
  return {
    type: 'change-merged',
    change: {
      project,
      branch: 'master',
      id: `I${String(n).padStart(40, '0')}`,
      number: oldStyle ? String(n) : n,
      subject: `${project} change ${n}`,
      owner: { name: 'Dev', email: 'dev@example.org', username: 'dev' },
      url: `${GERRIT}/c/${project}/+/${n}`,
      commitMessage: `${project} change ${n}\n\nChange-Id: I${String(n).padStart(40, '0')}\n`,
      ...extra,
    },
    patchSet: {
      number: oldStyle ? '1' : 1,
      revision: `rev-${project}-${n}`,
      parents: [n === 1 ? 'base' : sha(project, n - 1)],
    },
    submitter: { name: 'Dev', username: 'dev' },
    ...(oldStyle ? {} : { newRev: sha(project, n) }),
    eventCreatedOn: 1_700_000_000 + n,
  };
}

export function refUpdated(project: string, oldRev: string, newRev: string, oldStyle = false): GerritEvent {
  return {
    type: 'ref-updated',
    submitter: { name: 'Dev' },
    refUpdate: { oldRev, newRev, refName: oldStyle ? 'master' : 'refs/heads/master', project },
    eventCreatedOn: 1,
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

export interface Review {
  project: string;
  number: number;
  body: { message: string; tag: string; labels?: Record<string, number> };
}

export async function gerritBed(configFor: (project: string) => string | null) {
  const store = new LowdbStore(await mkdtemp(join(tmpdir(), 'ost-gerrit-')));
  const client = new GerritClient({ url: GERRIT, username: 'ost-gate', password: 'secret', minTimeout: 1 });
  const reviews: Review[] = [];
  const gerrit = nock(GERRIT).persist();
  gerrit.get(/\/a\/projects\/[^/]+\/branches\/master\/files\/\.ost-gate\.yml\/content/).reply((uri) => {
    const project = decodeURIComponent(/projects\/([^/]+)\//.exec(uri)![1]!);
    const text = configFor(project);
    return text === null ? [404, 'Not found'] : [200, Buffer.from(text).toString('base64')];
  });
  gerrit.get(/\/a\/changes\/[^/]+\/messages/).reply(200, ")]}'\n[]");
  gerrit.post(/\/a\/changes\/[^/]+\/revisions\/current\/review/).reply((uri, body) => {
    const m = /changes\/([^/]+)\/revisions/.exec(uri)!;
    const [project, number] = decodeURIComponent(m[1]!).split('~');
    reviews.push({ project: project!, number: Number(number), body: body as Review['body'] });
    return [200, ")]}'\n{}"];
  });
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
      labels: { gerrit: gerritChangeLabel },
    }),
  });
  const host = new GerritHost({
    client,
    engine,
    eventsToken: 'events-token',
    serviceUser: 'ost-gate',
    inboxDir: join(store.dataDir, 'gerrit-inbox'),
  });
  return {
    store,
    engine,
    host,
    client,
    reviews,
    builds,
    gerrit,
    setFails(f: (refs: Record<string, string>) => boolean) {
      fails = f;
    },
    /** Keep every Jenkins build running until called with false. */
    setBuilding(b: boolean) {
      building = b;
    },
    close() {
      dispatchers.jenkins.stop();
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
