// The Jenkins dispatcher: parameters, a crumb only when Jenkins asks for one, and the build URL recorded.
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { jenkinsResult, jobPath, JenkinsDispatcher } from '../../src/ci/jenkins/dispatcher.ts';
import type { CoreEvent, Run } from '../../src/core/index.ts';
import { dispatchContext } from '../helpers/dispatch.ts';

const J = 'https://ci.example.org';
offline();

const ctx = (events: CoreEvent[]) =>
  dispatchContext({ provider: 'jenkins', job: 'ovirt/ost', inputs: { SUITE: 'basic' } }, events);

describe('Jenkins dispatcher', () => {
  it.each([
    ['SUCCESS', 'success'],
    ['FAILURE', 'failure'],
    ['UNSTABLE', 'failure'],
    ['ABORTED', 'error'],
    ['NOT_BUILT', 'error'],
    [null, 'error'],
  ] as const)('maps the build result %s to %s', (result, status) => {
    expect(jenkinsResult(result)).toBe(status);
  });

  it.each([
    ['ovirt-system-tests', 'job/ovirt-system-tests'],
    ['folder/ovirt system tests', 'job/folder/job/ovirt%20system%20tests'],
  ])('builds the path of job %s', (job, path) => {
    expect(jobPath(job)).toBe(path);
  });

  it('fetches a crumb only when asked, passes the contract, and follows the queue item to the build', async () => {
    const events: CoreEvent[] = [];
    const bodies: string[] = [];
    const api = nock(J)
      .post('/job/ovirt/job/ost/buildWithParameters')
      .reply(403, 'No valid crumb was included in the request')
      .get('/crumbIssuer/api/json')
      .basicAuth({ user: 'bot', pass: 'tok' })
      .reply(200, { crumbRequestField: 'Jenkins-Crumb', crumb: 'c123' }, { 'set-cookie': 'JSESSIONID=abc; Path=/' })
      .post(
        '/job/ovirt/job/ost/buildWithParameters',
        (b) => (
          bodies.push(typeof b === 'string' ? b : new URLSearchParams({ ...(b as Record<string, string>) }).toString()),
          true
        ),
      )
      .matchHeader('jenkins-crumb', 'c123')
      .matchHeader('cookie', 'JSESSIONID=abc')
      .reply(201, '', { location: `${J}/queue/item/9/` })
      .get('/queue/item/9/api/json')
      .reply(200, { executable: null })
      .get('/queue/item/9/api/json')
      .reply(200, { executable: { url: `${J}/job/ovirt/job/ost/31/` } })
      .get('/job/ovirt/job/ost/31/api/json')
      .query(true)
      .reply(200, { building: false, result: 'FAILURE' })
      // a build that published no test report: Jenkins answers 404, and the run keeps one bit
      .get('/job/ovirt/job/ost/31/testReport/api/json')
      .query(true)
      .reply(404, '<html><body>Not Found</body></html>');
    const d = new JenkinsDispatcher({
      url: J,
      user: 'bot',
      token: 'tok',
      callbackUrl: 'https://ost/api/ci/callback',
      pollMs: 5,
      minTimeout: 1,
    });
    const res = await d.dispatch(
      { key: 'q.1', refs: { engine: 'abc' }, changes: ['x'], attempt: 1, kind: 'batch', line: 'main', end: 'x' },
      ctx(events),
    );
    expect(res.ciRunId).toBe(`${J}/queue/item/9`);
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const params = Object.fromEntries(new URLSearchParams(bodies[0]!));
    expect(params).toEqual({
      SUITE: 'basic',
      OST_KEY: 'q.1',
      OST_REFS: '{"engine":"abc"}',
      OST_CHANGES: '["x"]',
      OST_CALLBACK_URL: 'https://ost/api/ci/callback',
    });
    expect(events).toEqual([
      { type: 'run-started', at: 1, key: 'q.1', url: `${J}/job/ovirt/job/ost/31/`, ciRunId: `${J}/queue/item/9` },
      { type: 'run-finished', at: 1, key: 'q.1', status: 'failure', url: `${J}/job/ovirt/job/ost/31/` },
    ]);
    expect(api.isDone()).toBe(true);
  });

  it("reads a finished build's failing tests from the JUnit plugin's test report", async () => {
    const events: CoreEvent[] = [];
    const report = {
      _class: 'hudson.tasks.junit.TestResult',
      passCount: 41,
      suites: [
        {
          cases: [
            { className: 'basic-suite.002_bootstrap', name: 'add_hosts', status: 'REGRESSION' },
            { className: 'basic-suite.002_bootstrap', name: 'add_dc', status: 'PASSED' },
            { className: 'basic-suite.004_basic', name: 'vm_run', status: 'FAILED' },
            { className: 'basic-suite.004_basic', name: 'vm_migrate', status: 'SKIPPED' },
            { className: 'basic-suite.004_basic', name: 'snapshot', status: 'FIXED' },
          ],
        },
      ],
    };
    const api = nock(J)
      .post('/job/ovirt/job/ost/buildWithParameters')
      .reply(201, '', { location: `${J}/queue/item/9/` })
      .get('/queue/item/9/api/json')
      .reply(200, { executable: { url: `${J}/job/ovirt/job/ost/31/` } })
      .get('/job/ovirt/job/ost/31/api/json')
      .query(true)
      .reply(200, { building: false, result: 'UNSTABLE' })
      .get('/job/ovirt/job/ost/31/testReport/api/json')
      .query({ tree: 'passCount,suites[cases[className,name,status]]' })
      .reply(200, report);
    const d = new JenkinsDispatcher({ url: J, pollMs: 5, minTimeout: 1 });
    await d.dispatch(spec('q.1'), ctx(events));
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events[1]).toEqual({
      type: 'run-finished',
      at: 1,
      key: 'q.1',
      status: 'failure',
      url: `${J}/job/ovirt/job/ost/31/`,
      tests: { failed: ['basic-suite.002_bootstrap.add_hosts', 'basic-suite.004_basic.vm_run'], passed: 41 },
    });
    expect(api.isDone()).toBe(true);
  });

  it('does not fetch a crumb when Jenkins does not ask, and fails the dispatch on other errors', async () => {
    const d = new JenkinsDispatcher({ url: J, pollMs: 5, minTimeout: 1 });
    nock(J).post('/job/ovirt/job/ost/buildWithParameters').reply(404, 'no such job');
    await expect(
      d.dispatch({ key: 'q.2', refs: {}, changes: [], attempt: 1, kind: 'batch', line: 'main', end: 'x' }, ctx([])),
    ).rejects.toThrow(/answered 404/);
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('cancelling a Jenkins run', () => {
  const run = (extra: Partial<Run>): Run => ({
    key: 'q.3',
    line: 'main',
    kind: 'batch',
    end: 'x',
    changes: ['x'],
    refs: {},
    state: 'dispatched',
    attempt: 1,
    createdAt: 0,
    deadline: 1,
    ...extra,
  });

  it.each([
    ['a build still in the queue is taken out of it', { ciRunId: `${J}/queue/item/7` }, '/queue/cancelItem?id=7'],
    [
      'a started build is stopped',
      { ciRunId: `${J}/queue/item/7`, url: `${J}/job/ovirt/job/ost/31/` },
      '/job/ovirt/job/ost/31/stop',
    ],
  ])('%s', async (_what, extra, path) => {
    const c = ctx([]);
    c.file.state.runs['q.3'] = run(extra);
    // Jenkins answers both with a redirect to the page of the item or the build
    const api = nock(J)
      .post(path)
      .reply(302, '', { location: `${J}/` });
    await new JenkinsDispatcher({ url: J, minTimeout: 1 }).cancel('q.3', c);
    expect(api.isDone()).toBe(true);
  });
});

/** A queue item or build as Jenkins' JSON API shows it, with its parameters. */
const withKey = (key: string, url: string) => ({
  _class: 'hudson.model.Queue$WaitingItem',
  actions: [
    {
      _class: 'hudson.model.ParametersAction',
      parameters: [
        { _class: 'hudson.model.StringParameterValue', name: 'OST_KEY', value: key },
        { _class: 'hudson.model.StringParameterValue', name: 'OST_REFS', value: '{}' },
      ],
    },
    {},
  ],
  url,
});
const QUEUE_API = '/queue/api/json';
const BUILDS_API = '/job/ovirt/job/ost/api/json';
const spec = (key: string) => ({
  key,
  refs: {},
  changes: ['x'],
  attempt: 1,
  kind: 'batch' as const,
  line: 'main',
  end: 'x',
});

describe('a Jenkins run sent once', () => {
  it('fetches a new crumb when Jenkins refuses the one it gave (its session ended), instead of failing from then on', async () => {
    const crumbs = ['c1', 'c2'];
    const sent: string[] = [];
    nock(J)
      .get('/crumbIssuer/api/json')
      .times(2)
      .reply(() => [200, { crumbRequestField: 'Jenkins-Crumb', crumb: crumbs.shift() }])
      .post('/job/ovirt/job/ost/buildWithParameters')
      .times(4)
      .reply(function () {
        const crumb = String(this.req.headers['jenkins-crumb'] ?? '');
        sent.push(crumb);
        // the first crumb is good for the first build only, as when Jenkins restarts or the session ends
        if (crumb === 'c2' || (crumb === 'c1' && sent.filter((c) => c === 'c1').length === 1))
          return [201, '', { location: `${J}/queue/item/${sent.length}/` }];
        return [403, 'No valid crumb was included in the request'];
      });
    nock(J)
      .persist()
      .get(/\/queue\/item\/\d+\/api\/json/)
      .reply(200, { executable: null });
    const d = new JenkinsDispatcher({ url: J, pollMs: 60_000, minTimeout: 1 });
    await d.dispatch(spec('q.1'), ctx([]));
    await d.dispatch(spec('q.2'), ctx([]));
    expect(sent).toEqual(['', 'c1', 'c1', 'c2']);
    d.stop();
  });

  it('tells whether a run was sent before a crash, by its OST_KEY in the queue or the recent builds', async () => {
    const d = new JenkinsDispatcher({ url: J, minTimeout: 1 });
    nock(J)
      .persist()
      .get(QUEUE_API)
      .query(true)
      .reply(200, { _class: 'hudson.model.Queue', items: [withKey('q.waiting', 'queue/item/41/')] })
      .get(BUILDS_API)
      .query((q) => String(q.tree).startsWith('builds[url,actions[parameters[name,value]]]{0,'))
      .reply(200, { builds: [withKey('q.built', `${J}/job/ovirt/job/ost/12/`)] });
    expect(await d.wasDispatched('q.waiting', ctx([]))).toBe(true);
    expect(await d.wasDispatched('q.built', ctx([]))).toBe(true);
    expect(await d.wasDispatched('q.never', ctx([]))).toBe(false);
    expect(await d.findByKey('ovirt/ost', 'q.waiting')).toEqual({ queueItem: `${J}/queue/item/41` });
  });

  it('follows a run whose queue item Jenkins forgot to its build, found by OST_KEY', async () => {
    const events: CoreEvent[] = [];
    nock(J)
      .get('/queue/item/7/api/json')
      .reply(404, 'Not Found')
      .get(QUEUE_API)
      .query(true)
      .reply(200, { items: [] })
      .get(BUILDS_API)
      .query(true)
      .reply(200, {
        builds: [withKey('q.other', `${J}/job/ovirt/job/ost/13/`), withKey('q.1', `${J}/job/ovirt/job/ost/12/`)],
      })
      .get('/job/ovirt/job/ost/12/api/json')
      .query(true)
      .reply(200, { building: false, result: 'SUCCESS' });
    const d = new JenkinsDispatcher({ url: J, pollMs: 5, minTimeout: 1 });
    await d.resume(
      { ...spec('q.1'), state: 'dispatched', createdAt: 0, deadline: 1, ciRunId: `${J}/queue/item/7` },
      ctx(events),
    );
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events.map((e) => [e.type, 'url' in e ? e.url : null])).toEqual([
      ['run-started', `${J}/job/ovirt/job/ost/12/`],
      ['run-finished', `${J}/job/ovirt/job/ost/12/`],
    ]);
  });

  it('picks up after a restart a run sent just before the crash, whose queue item was never recorded', async () => {
    const events: CoreEvent[] = [];
    nock(J)
      .get(QUEUE_API)
      .query(true)
      .reply(200, { items: [withKey('q.1', 'queue/item/9/')] })
      .get('/queue/item/9/api/json')
      .reply(200, { executable: { url: `${J}/job/ovirt/job/ost/31/` } })
      .get('/job/ovirt/job/ost/31/api/json')
      .query(true)
      .reply(200, { building: false, result: 'FAILURE' });
    const d = new JenkinsDispatcher({ url: J, pollMs: 5, minTimeout: 1 });
    await d.resume({ ...spec('q.1'), state: 'dispatched', createdAt: 0, deadline: 1 }, ctx(events));
    for (let i = 0; i < 200 && events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events.map((e) => e.type)).toEqual(['run-started', 'run-finished']);
  });

  it('stops the build of a run that left the queue as it was cancelled (cancelItem answers 404)', async () => {
    const c = ctx([]);
    c.file.state.runs['q.3'] = {
      ...spec('q.3'),
      state: 'dispatched',
      createdAt: 0,
      deadline: 1,
      ciRunId: `${J}/queue/item/7`,
    };
    const api = nock(J)
      .post('/queue/cancelItem')
      .query({ id: '7' })
      .reply(404, 'Not Found')
      .get('/queue/item/7/api/json')
      .reply(200, { executable: { url: `${J}/job/ovirt/job/ost/31/` } })
      .post('/job/ovirt/job/ost/31/stop')
      .reply(302, '', { location: `${J}/job/ovirt/job/ost/31/` });
    await new JenkinsDispatcher({ url: J, minTimeout: 1 }).cancel('q.3', c);
    expect(api.isDone()).toBe(true);
  });
});
