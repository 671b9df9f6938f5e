// Gerrit details: old and new event styles, the events endpoint's token, commands and permissions,
// config errors, votes, idempotent reviews, and the REST client's retries and errors.
import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { GerritClient } from '../../src/hosts/gerrit/client.ts';
import { GerritReporter } from '../../src/hosts/gerrit/reporter.ts';
import { checkEvent } from '../../src/hosts/gerrit/events.ts';
import { GerritHost } from '../../src/hosts/gerrit/host.ts';
import { GerritInbox } from '../../src/hosts/gerrit/inbox.ts';
import { textMarker as gerritMarker } from '../../src/report/markers.ts';
import { reportOf } from '../helpers/report.ts';
import { silentLogger } from '../../src/log.ts';
import { createHttpServer } from '../../src/web/server.ts';
import { commentAdded, GERRIT, gerritBed, sampleEvents } from '../helpers/gerrit.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { configRules } from '../../src/registry.ts';

const CONFIG =
  'branches: [master]\nci:\n  provider: jenkins\n  job: ost\n  max_parallel: 1\nflaky:\n  confirm: 0\n  confidence: 0\ncommands:\n  permission: [ost-admins]\n';
const OST_ADMINS = {
  members: [{ _account_id: 1000096, name: 'Root', email: 'root@example.org', username: 'root' }],
  visibleToAll: true,
};
const Q = (p: string) => `gerrit:gerrit.example.org/${p}@master`;

offline();

describe('Gerrit events', () => {
  it('reads old-style events: numbers as strings, a bare refName, no newRev', async () => {
    const bed = await gerritBed(() => CONFIG);
    const c = bed.fake.upload('app', { number: 1 });
    const [refUpdated, changeMerged] = bed.fake.submit([c], 'FAST_FORWARD_ONLY');
    const { newRev: _newRev, ...merged } = changeMerged!;
    await bed.send([
      { ...refUpdated!, refUpdate: { ...refUpdated!.refUpdate!, refName: 'master' } },
      { ...merged, change: { ...merged.change!, number: '1' }, patchSet: { ...merged.patchSet!, number: '1' } },
    ]);
    const file = (await readQueue(bed.store, Q('app')))!;
    expect(file.state.changes['gerrit:gerrit.example.org/app~1']).toMatchObject({
      number: 1,
      sha: bed.fake.revision(1),
      branch: 'master',
      title: 'app change 1',
      // the change owner, as DETAILED_ACCOUNTS gives it: the address a culprit's mail goes to
      author: 'dev',
      authorEmail: 'dev@example.org',
    });
    expect(file.state.streams['gerrit:app@master']!.tip).toBe(bed.fake.revision(1));
    bed.close();
  });

  it('orders submits by the branch history, whatever order their events come in', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    const submits = [1, 2, 3].map((n) => bed.fake.submit([bed.fake.upload('app', { number: n })]));
    const order = async () =>
      Object.values((await readQueue(bed.store, Q('app')))!.state.changes)
        .sort((a, b) => a.seq - b.seq)
        .map((c) => c.number);
    await bed.send(submits[0]!);
    await bed.send(submits[2]!);
    expect(await order()).toEqual([1]);
    await bed.send(submits[1]!);
    expect(await order()).toEqual([1, 2, 3]);
    bed.close();
  });

  it('resolves a Depends-On Change-Id through the REST API', async () => {
    const bed = await gerritBed(() => CONFIG);
    const other = bed.fake.upload('other', { number: 7 });
    await bed.merge('app', { number: 1, body: `Depends-On: ${other.changeId}` });
    const c = (await readQueue(bed.store, Q('app')))!.state.changes['gerrit:gerrit.example.org/app~1']!;
    expect(c.dependsOn).toEqual(['gerrit:gerrit.example.org/other~7']);
    expect(c.state).toBe('waiting');
    bed.close();
  });

  it('ignores dropped-output and unknown event types', async () => {
    const bed = await gerritBed(() => CONFIG);
    await bed.host.handle({ type: 'dropped-output' });
    await bed.host.handle({ type: 'project-created' });
    expect(await bed.store.listQueues()).toEqual([]);
  });

  it('posts a review message for an invalid .ost-gate.yml and keeps the last good config', async () => {
    let config = CONFIG;
    const bed = await gerritBed(() => config);
    await bed.merge('app', { number: 1 });
    config = 'ci:\n  provider: travis\n';
    await bed.merge('app', { number: 2, files: ['.ost-gate.yml'] });
    const review = bed.reviews.find((r) => r.number === 2)!;
    expect(review.body.message).toMatch(/^ost-gate: config error/);
    expect(review.body.message).toMatch(/ci\.provider: got "travis"/);
    const file = (await readQueue(bed.store, Q('app')))!;
    expect(file.ci?.provider).toBe('jenkins');
    expect(file.notices.find((n) => n.code === 'config-invalid')?.message).toMatch(/ci\.provider: got "travis"/);
    expect(Object.keys(file.state.changes)).toHaveLength(2);
  });

  it('refuses a config whose runner the server does not have: the last good config stays, and people are told', async () => {
    let config = CONFIG;
    const bed = await gerritBed(() => config);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    config = 'branches: [master]\nci: {provider: "command:nosuch"}\n';
    await bed.merge('app', { number: 2, files: ['.ost-gate.yml'] });
    const file = (await readQueue(bed.store, Q('app')))!;
    expect(file.ci?.provider).toBe('jenkins');
    expect(Object.keys(file.state.changes)).toHaveLength(2);
    const why = /ci\.provider: got "command:nosuch"; this server cannot run tests there \(it has jenkins\)/;
    expect(file.notices.find((n) => n.code === 'config-invalid')?.message).toMatch(why);
    expect(bed.reviews.find((r) => r.number === 2)!.body.message).toMatch(why);
    bed.close();
  });

  it('names the cause when the queue pauses because its runner is not on this server', async () => {
    // a server that had the runner when the config was checked, and lost it since
    const bed = await gerritBed(() => 'branches: [master]\nci: {provider: "webhook:gone", retries: 1}\n', {
      providers: () => ['jenkins', 'webhook:gone'],
    });
    await bed.merge('app', { number: 1 });
    await bed.until(async () => (await readQueue(bed.store, Q('app')))!.state.paused !== null);
    expect((await readQueue(bed.store, Q('app')))!.state.paused!.reason).toMatch(
      /ended error after 2 attempt\(s\): CI provider webhook:gone is not configured on this server; nothing was blamed/,
    );
    bed.close();
  });

  it('does not gate a project without .ost-gate.yml', async () => {
    const bed = await gerritBed(() => null);
    await bed.merge('app', { number: 1 });
    expect(await bed.store.listQueues()).toEqual([]);
  });
});

describe('Gerrit commands', () => {
  it('needs a group from commands.permission for write verbs, lets the owner retry, and ignores the service user', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    // the group's members, as Gerrit lists them to a service user that can see them
    bed.fake.groups['ost-admins'] = OST_ADMINS;
    await bed.merge('app', { number: 1 });
    await bed.host.handle(commentAdded('app', 1, '/ost dequeue', 'alice'));
    expect(bed.reviews.at(-1)!.body.message).toMatch(/needs membership in ost-admins; alice is not/);
    await bed.host.handle(commentAdded('app', 1, '/ost retry', 'dev', 'dev'));
    expect(bed.reviews.at(-1)!.body.message).toMatch(/nothing failed to re-run/);
    await bed.host.handle(commentAdded('app', 1, '/ost pause', 'ost-gate'));
    const count = bed.reviews.length;
    await bed.host.handle(commentAdded('app', 1, '/ost dequeue', 'root'));
    expect(bed.reviews.length).toBe(count + 1);
    expect(bed.reviews.at(-1)!.body).toMatchObject({
      tag: 'autogenerated:ost-gate',
      message: expect.stringMatching(/removed from queue/),
    });
    expect((await readQueue(bed.store, Q('app')))!.state.paused).toBeNull();
    bed.close();
  });

  it('runs the commands of a comment delivered twice once (the webhooks plugin retries a slow answer)', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    const comment = commentAdded('app', 1, '/ost help', 'alice');
    await bed.host.handle(comment);
    const count = bed.reviews.length;
    await bed.host.handle(structuredClone(comment));
    expect(bed.reviews.length).toBe(count);
    // the same words in a new comment are a new command
    await bed.host.handle({ ...comment, eventCreatedOn: 3 });
    expect(bed.reviews.length).toBe(count + 1);
    bed.close();
  });

  it('answers help and unknown verbs, and status for anyone', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    await bed.host.handle(commentAdded('app', 1, '/ost nonsense', 'alice'));
    await bed.host.handle(commentAdded('app', 1, '/ost status', 'alice'));
    const [unknown, status] = bed.reviews.slice(-2).map((r) => r.body.message);
    expect(unknown).toMatch(/^alice: \/ost nonsense is not a command\.\nost-gate commands:/);
    expect(unknown).toContain('* command /ost not-culprit, who write, what reject a culprit verdict');
    // the same words as on GitHub, in plain text
    expect(status).toMatch(
      /^ost-gate: gerrit:gerrit\.example\.org\/app~1 is under test in \S+ in queue gerrit:gerrit\.example\.org\/app@master\.$/,
    );
    bed.close();
  });
});

describe('Gerrit command permission from groups the service user may not see whole', () => {
  const EXTERNAL =
    'branches: [master]\nci: {provider: jenkins, job: ost}\ncommands: {permission: [ldap/ovirt-admins]}\n';

  it('refuses with a reply that says how to make the group visible, and changes nothing', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    // Gerrit hides a group that is not visible to all, not owned by the caller's group, from a caller
    // without Administrate Server: its members endpoint answers 404 as for a group that does not exist
    await bed.merge('app', { number: 1 });
    await bed.host.handle(commentAdded('app', 1, '/ost dequeue', 'root'));
    const message = String(bed.reviews.at(-1)!.body.message);
    expect(message).toMatch(/needs membership in ost-admins; root is not a member of a group ost-gate can see/);
    expect(message).toMatch(
      /cannot see all the members of ost-admins: in Gerrit, tick "Make group visible to all registered users"/,
    );
    expect((await readQueue(bed.store, Q('app')))!.state.changes['gerrit:gerrit.example.org/app~1']!.state).not.toBe(
      'done',
    );
    bed.close();
  });

  it('gives the hint when the service user is a member but not an owner of a group not visible to all', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    // Gerrit lists such a group's members to the service user as itself alone
    bed.fake.groups['ost-admins'] = {
      members: [...OST_ADMINS.members, { username: 'ost-gate', name: 'ost-gate', _account_id: 1000002 }],
    };
    await bed.merge('app', { number: 1 });
    await bed.host.handle(commentAdded('app', 1, '/ost dequeue', 'root'));
    expect(String(bed.reviews.at(-1)!.body.message)).toMatch(
      /root is not a member of a group ost-gate can see \(it cannot see all the members of ost-admins: in Gerrit, tick/,
    );
    // owning it (or the group being visible to all) shows every member: root may
    bed.fake.groups['ost-admins'] = { ...bed.fake.groups['ost-admins'], owners: ['ost-gate'] } as never;
    await bed.host.handle({ ...commentAdded('app', 1, '/ost dequeue', 'root'), eventCreatedOn: 9 });
    expect(String(bed.reviews.at(-1)!.body.message)).toMatch(/removed from queue/);
    bed.close();
  });

  it('checks an external group through the commenter’s groups, and says what the service user lacks', async () => {
    const bed = await gerritBed(() => EXTERNAL);
    bed.setBuilding(true);
    bed.fake.groups['ldap/ovirt-admins'] = 'external';
    bed.fake.accountGroups.root = ['ldap/ovirt-admins'];
    await bed.merge('app', { number: 1 });
    await bed.host.handle(commentAdded('app', 1, '/ost pause', 'root'));
    expect(String(bed.reviews.at(-1)!.body.message)).toMatch(
      /needs membership in ldap\/ovirt-admins; root is not a member of a group ost-gate can see \(ldap\/ovirt-admins is an external group: Gerrit tells the members of an external group only to a user with the Administrate Server capability/,
    );
    expect((await readQueue(bed.store, Q('app')))!.state.paused).toBeNull();
    // with Administrate Server, Gerrit lists root's external groups: the command runs
    bed.fake.serviceIsAdmin = true;
    await bed.host.handle({ ...commentAdded('app', 1, '/ost pause', 'root'), eventCreatedOn: 9 });
    expect((await readQueue(bed.store, Q('app')))!.state.paused).not.toBeNull();
    // and someone who is not in it is refused plainly
    await bed.host.handle({ ...commentAdded('app', 1, '/ost resume', 'alice'), eventCreatedOn: 10 });
    expect(String(bed.reviews.at(-1)!.body.message)).toMatch(/needs membership in ldap\/ovirt-admins; alice is not\./);
    bed.close();
  });
});

describe('Gerrit /ost enqueue', () => {
  it('adds a merged change whose event was missed, read from the REST API', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    bed.fake.groups['ost-admins'] = OST_ADMINS;
    const missed = bed.fake.upload('app', { number: 8, subject: 'missed one' });
    bed.fake.submit([missed]); // its events never arrive
    await bed.host.handle(commentAdded('app', 8, '/ost enqueue', 'root'));
    const file = (await readQueue(bed.store, Q('app')))!;
    expect(file.state.changes['gerrit:gerrit.example.org/app~8']).toMatchObject({
      sha: bed.fake.revision(8),
      title: 'missed one',
      author: 'dev',
    });
    expect(bed.reviews.at(-1)!.body.message).toMatch(/added to queue/);
    bed.close();
  });
});

describe('POST /gerrit/events', () => {
  it('needs GERRIT_EVENTS_TOKEN as ?token= or Bearer, and explains bad bodies', async () => {
    const bed = await gerritBed(() => CONFIG);
    const server = createHttpServer({ engine: bed.engine, log: silentLogger, mounts: [bed.host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    nock.enableNetConnect('127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events`;
      const body = JSON.stringify(bed.fake.submit([bed.fake.upload('app', { number: 1 })])[1]);
      const missing = await fetch(base, { method: 'POST', body });
      expect([missing.status, (await missing.json()).error]).toEqual([401, expect.stringContaining('token')]);
      expect((await fetch(`${base}?token=wrong`, { method: 'POST', body })).status).toBe(401);
      expect(await bed.store.listQueues()).toEqual([]);
      expect((await fetch(`${base}?token=events-token`, { method: 'POST', body: '{nope' })).status).toBe(400);
      expect(
        (await fetch(base, { method: 'POST', body, headers: { authorization: 'Bearer events-token' } })).status,
      ).toBe(202);
      await bed.host.idle();
      expect(await bed.store.listQueues()).toEqual([Q('app')]);
    } finally {
      server.close();
    }
  });
});

describe('POST /gerrit/events on a slow Gerrit', () => {
  it('answers once the event is on disk, before handling it, and runs a redelivered comment once', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    const server = createHttpServer({ engine: bed.engine, log: silentLogger, mounts: [bed.host.mount] });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    nock.enableNetConnect('127.0.0.1');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gerrit/events?token=events-token`;
      const post = (event: unknown) => fetch(base, { method: 'POST', body: JSON.stringify(event) });
      await bed.merge('app', { number: 1 });
      await bed.host.idle();
      // Gerrit takes its time over the group lookup: the handling is still waiting when 202 comes back
      let release!: () => void;
      const slow = new Promise<void>((ok) => (release = ok));
      bed.fake.groups['ost-admins'] = OST_ADMINS;
      bed.fake.delay = async (_method, path) => {
        if (path.includes('/groups/') || path.includes('/accounts/')) await slow;
      };
      const comment = commentAdded('app', 1, '/ost pause', 'root');
      const before = bed.reviews.length;
      const first = await post(comment);
      expect([first.status, await first.json()]).toEqual([202, { accepted: true, type: 'comment-added' }]);
      const pending = await readdir(join(bed.store.dataDir, 'gerrit-inbox', 'pending'));
      expect(pending).toHaveLength(1);
      expect(bed.reviews.length).toBe(before);
      // the plugin timed out and delivers the same event again, in the old format (number as a string)
      const again = await post({ ...comment, change: { ...comment.change, number: String(comment.change!.number) } });
      expect(await again.json()).toMatchObject({ accepted: true, duplicate: true });
      release();
      await bed.host.idle();
      expect(bed.reviews.slice(before).map((r) => String(r.body.message))).toEqual([expect.stringMatching(/paused/)]);
      expect(await readdir(join(bed.store.dataDir, 'gerrit-inbox', 'pending'))).toEqual([]);
      // and a third delivery after it was handled is dropped as well
      expect(await (await post(comment)).json()).toMatchObject({ duplicate: true });
    } finally {
      server.close();
    }
  });

  it('keeps an event whose handling failed under failed/, and goes on with the next', async () => {
    const dir = join((await gerritBed(() => CONFIG)).store.dataDir, 'gerrit-inbox');
    const handled: string[] = [];
    const inbox = new GerritInbox({
      dir,
      handle: async (e) => {
        if (e.type === 'change-merged') throw new Error('Gerrit said 500');
        handled.push(e.type);
      },
      log: silentLogger,
    });
    await inbox.accept(sampleEvents().changeMerged);
    await inbox.accept(commentAdded('app', 1, '/ost status', 'root'));
    await inbox.idle();
    expect(handled).toEqual(['comment-added']);
    expect(await readdir(join(dir, 'pending'))).toEqual([]);
    const failed = await readdir(join(dir, 'failed'));
    expect(failed).toHaveLength(1);
    expect(JSON.parse(await readFile(join(dir, 'failed', failed[0]!), 'utf8')).event.type).toBe('change-merged');
  });

  it('handles at start-up an event that was accepted but not handled before a crash', async () => {
    const first = await gerritBed(() => CONFIG);
    first.setBuilding(true);
    const dir = join(first.store.dataDir, 'gerrit-inbox');
    const inbox = new GerritInbox({ dir, handle: () => new Promise(() => {}), log: silentLogger });
    const [, merged] = first.fake.submit([first.fake.upload('app', { number: 1 })]);
    expect(await inbox.accept(merged!)).toBe(true);
    // a new process on the same data directory
    const host = new GerritHost({ client: first.client, engine: first.engine, rules: configRules, inboxDir: dir });
    await host.start();
    await host.idle();
    expect(await first.store.listQueues()).toEqual([Q('app')]);
    expect(await readdir(join(dir, 'pending'))).toEqual([]);
  });
});

describe('Gerrit REST client', () => {
  it('strips the XSSI prefix, URL-encodes names, and retries a 500', async () => {
    const client = new GerritClient({ url: GERRIT, username: 'u', password: 'p', minTimeout: 1 });
    nock(GERRIT)
      .get('/a/changes/ovirt%2Fengine~5')
      .query(true)
      .reply(500, 'oops')
      .get('/a/changes/ovirt%2Fengine~5')
      .query(true)
      .basicAuth({ user: 'u', pass: 'p' })
      .reply(200, `)]}'\n{"_number":5,"project":"ovirt/engine"}`);
    expect(await client.change('ovirt/engine', 5)).toMatchObject({ _number: 5 });
  });

  it('gives clear errors for 401, 403 and 404 without retrying', async () => {
    const client = new GerritClient({ url: GERRIT, minTimeout: 1 });
    nock(GERRIT)
      .get('/a/changes/p~1/messages')
      .reply(401, 'Unauthorized')
      .get('/a/changes/p~2/messages')
      .reply(403, 'no')
      .get('/a/changes/p~3/messages')
      .reply(404, 'Not found');
    await expect(client.messages('p', 1)).rejects.toThrow(
      /401 not authenticated: check GERRIT_USERNAME and GERRIT_PASSWORD/,
    );
    await expect(client.messages('p', 2)).rejects.toThrow(/403 forbidden/);
    await expect(client.messages('p', 3)).rejects.toThrow(/404 not found/);
  });
});

describe('Gerrit reporter', () => {
  const config = (label: string | null) => `ci: {provider: jenkins, job: ost}
report: {gerrit_label: ${label ?? 'null'}}`;
  const change = {
    id: 'gerrit:gerrit.example.org/app~3',
    sha: 's',
    number: 3,
    project: 'app',
    branch: 'master',
    host: 'gerrit',
    stream: 'gerrit:app@master',
    seq: 1,
    state: 'done' as const,
    enqueuedAt: 0,
    title: 't',
  };
  const verdict = { change: change.id, verdict: 'culprit' as const, confidence: 0.999, at: 1 };

  it('does not post a verdict whose tagged message is already there', async () => {
    const reporter = new GerritReporter(new GerritClient({ url: GERRIT, minTimeout: 1 }));
    nock(GERRIT)
      .get('/a/changes/app~3/messages')
      .reply(
        200,
        `)]}'\n[{"id":"m","tag":"autogenerated:ost-gate","message":"ost-gate: culprit\\n${gerritMarker('q', change.id, 'culprit')}"}]`,
      );
    await reporter.report(reportOf('q', change, verdict, config(null)));
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('votes with the configured label, and posts without it when Gerrit refuses the vote', async () => {
    const reporter = new GerritReporter(new GerritClient({ url: GERRIT, minTimeout: 1 }));
    const bodies: Record<string, unknown>[] = [];
    nock(GERRIT)
      .get('/a/changes/app~3/messages')
      .reply(200, ")]}'\n[]")
      .post('/a/changes/app~3/revisions/current/review', (b) => (bodies.push(b), true))
      .reply(409, 'Cannot reduce vote on labels for closed change: Verified')
      .post('/a/changes/app~3/revisions/current/review', (b) => (bodies.push(b), true))
      .reply(200, ")]}'\n{}");
    await reporter.report(reportOf('q', change, verdict, config('Verified')));
    expect(bodies.map((b) => b.labels)).toEqual([{ Verified: -1 }, undefined]);
    expect(bodies[1]).toMatchObject({
      tag: 'autogenerated:ost-gate',
      message: expect.stringMatching(/^ost-gate: culprit/),
    });
  });
});

describe('Gerrit event formats', () => {
  const oldComment = () => {
    const e = commentAdded('app', 3, '/ost status');
    return { ...e, change: { ...e.change!, number: '3' }, patchSet: { number: '1', revision: 'abc' } };
  };
  it.each([
    ['change-merged, Gerrit 3 style', sampleEvents().changeMerged],
    ['change-merged, old style (string numbers, no newRev)', sampleEvents('app', 1, true).changeMerged],
    ['ref-updated, full refName', sampleEvents().refUpdated],
    ['ref-updated, bare refName', sampleEvents('app', 1, true).refUpdated],
    ['comment-added', commentAdded('app', 3, '/ost status')],
    ['comment-added, old style', oldComment()],
    ['dropped-output', { type: 'dropped-output', eventCreatedOn: 5 }],
    ['an event type ost-gate does not act on', { type: 'project-created', projectName: 'x', eventCreatedOn: 6 }],
  ])('reads %s', (_what, event) => {
    expect(checkEvent(event)).toEqual({ event });
  });

  it.each([
    ['a project named ..', sampleEvents('..').changeMerged, /change\.project/],
    [
      'a change number that is not one',
      { ...sampleEvents().changeMerged, change: { ...sampleEvents().changeMerged.change!, number: 'one' } },
      /change\.number/,
    ],
    ['no type', { change: sampleEvents().changeMerged.change }, /type/],
  ])('refuses %s', (_what, event, why) => {
    const checked = checkEvent(event);
    expect('problem' in checked && checked.problem).toMatch(why);
  });
});
