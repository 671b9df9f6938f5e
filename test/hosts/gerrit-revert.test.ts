// Reverting a confirmed culprit on Gerrit (revert.auto), against the stand-in Gerrit: through the real
// engine and Jenkins stand-in, the culprit gets exactly one revert, which the queue then tests and
// calls `fixed`; the next culprit past revert.daily_limit gets the reason instead; without
// revert.auto nothing is opened. The reverter alone: each guard posts its reason
// on the culprit (the queue's, the author's OST-No-Revert footer, a missing Revert right), a retry
// after a crash finds the revert it opened, a merged revert means nothing to do, and a refused submit
// is said on the revert.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { GERRIT, gerritBed } from '../helpers/gerrit.ts';
import { FakeGerrit } from '../helpers/fake-gerrit.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { GerritClient } from '../../src/hosts/gerrit/client.ts';
import { GerritReverter } from '../../src/hosts/gerrit/revert.ts';
import type { RevertRequest } from '../../src/engine/effects.ts';

offline();

const CONFIG = (revert: string) =>
  'branches: [master]\nci:\n  provider: jenkins\n  job: ost\n  max_parallel: 2\n' +
  `flaky:\n  confirm: 0\n  confidence: 0\nrevert:\n${revert}`;

describe('reverting a culprit on Gerrit, through the engine', () => {
  it('opens exactly one revert of the culprit, with the evidence, and the queue calls it fixed once merged', async () => {
    const bed = await gerritBed(() => CONFIG('  auto: true\n  confidence: 0\n'));
    const project = 'ovirt-engine';
    let culprit = '';
    bed.setFails((refs) => !!culprit && bed.fake.contains(refs[project] ?? '', culprit));
    for (let n = 1; n <= 4; n++) {
      const c = bed.fake.upload(project, { number: n, subject: `change ${n}` });
      if (n === 3) culprit = bed.fake.revision(3);
      await bed.send(bed.fake.submit([c]));
    }
    const queue = `gerrit:gerrit.example.org/${project}@master`;
    const done = async () =>
      Object.values((await readQueue(bed.store, queue))!.state.changes).every((c) => c.state === 'done');
    await bed.until(done);
    await bed.engine.idle();
    const reverts = (await bed.client.revertsOf(3)).map((c) => c._number);
    expect(reverts).toHaveLength(1);
    const revert = bed.fake.change(reverts[0]!);
    expect(revert.subject).toBe('Revert "change 3"');
    const onCulprit = bed.reviews.filter((r) => r.number === 3).map((r) => r.body.message);
    expect(
      onCulprit.some((m) =>
        m.startsWith(`ost-gate opened a revert of this change: ${GERRIT}/c/${project}/+/${revert.number}`),
      ),
    ).toBe(true);
    const onRevert = bed.reviews.filter((r) => r.number === revert.number).map((r) => r.body.message);
    expect(onRevert[0]).toMatch(/found this change to break the system tests of queue .* \(confidence \d+\.\d+%\)/);
    expect(onRevert[0]).toMatch(
      /Evidence:\n(- passed run .*\n)?- failed run [^\n]+ up to .*: https:\/\/jenkins\.example\.org\/job\/ost\/\d+\//,
    );
    // a person submits the revert: the queue tests it and calls it fixed; nothing is opened again
    const events = bed.fake.submit([revert]);
    const reverted = bed.fake.tip(project);
    bed.setFails(
      (refs) => bed.fake.contains(refs[project] ?? '', culprit) && !bed.fake.contains(refs[project] ?? '', reverted),
    );
    await bed.send(events);
    await bed.until(done);
    const file = (await readQueue(bed.store, queue))!;
    const revertChange = Object.values(file.state.changes).find((c) => c.number === revert.number)!;
    expect(revertChange.verdict).toBe('fixed');
    expect(await bed.client.revertsOf(3)).toHaveLength(1);
    expect(file.reverts).toEqual([{ day: new Date().toISOString().slice(0, 10), count: 1 }]);
    bed.close();
  }, 60_000);

  it('keeps to revert.daily_limit: the next culprit that day gets the reason on its change instead', async () => {
    const bed = await gerritBed(() => CONFIG('  auto: true\n  confidence: 0\n  daily_limit: 1\n'));
    const project = 'app';
    const queue = `gerrit:gerrit.example.org/${project}@master`;
    const id = (n: number) => `gerrit:gerrit.example.org/${project}~${n}`;
    // culprit sha -> the sha of the commit that reverted it, once there is one
    const broken = new Map<string, string | null>();
    bed.setFails((refs) => {
      const tip = refs[project] ?? '';
      return [...broken].some(([c, fix]) => bed.fake.contains(tip, c) && !(fix && bed.fake.contains(tip, fix)));
    });
    const verdictOf = async (n: number) => (await readQueue(bed.store, queue))!.state.changes[id(n)]?.verdict;
    const first = bed.fake.upload(project, { subject: 'first break' });
    broken.set(bed.fake.revision(first.number), null);
    await bed.send(bed.fake.submit([first]));
    await bed.until(async () => (await verdictOf(first.number)) === 'culprit');
    await bed.engine.idle();
    const [revert] = bed.fake.revertsOf(first.number);
    expect(revert).toBeDefined();
    const events = bed.fake.submit([revert!]);
    broken.set(bed.fake.revision(first.number), bed.fake.tip(project));
    await bed.send(events);
    await bed.until(async () => (await verdictOf(revert!.number)) === 'fixed');
    const second = bed.fake.upload(project, { subject: 'second break' });
    broken.set(bed.fake.revision(second.number), null);
    await bed.send(bed.fake.submit([second]));
    await bed.until(async () => (await verdictOf(second.number)) === 'culprit');
    await bed.engine.idle();
    expect(bed.fake.revertsOf(second.number)).toEqual([]);
    const said = bed.reviews.filter((r) => r.number === second.number).map((r) => r.body.message);
    expect(said).toContainEqual(
      expect.stringContaining(
        'ost-gate did not open a revert of this change: the queue opened 1 revert(s) today, its revert.daily_limit of 1.',
      ),
    );
    bed.close();
  }, 60_000);

  it('opens none with revert.auto off (the default)', async () => {
    const bed = await gerritBed(() => CONFIG('  auto: false\n'));
    const project = 'app';
    let culprit = '';
    bed.setFails((refs) => !!culprit && bed.fake.contains(refs[project] ?? '', culprit));
    const c = bed.fake.upload(project, { number: 1 });
    culprit = bed.fake.revision(1);
    await bed.send(bed.fake.submit([c]));
    const queue = `gerrit:gerrit.example.org/${project}@master`;
    await bed.until(
      async () =>
        (await readQueue(bed.store, queue))!.state.changes[`gerrit:gerrit.example.org/${project}~1`]?.verdict ===
        'culprit',
    );
    expect(await bed.client.revertsOf(1)).toEqual([]);
    expect(bed.fake.calls.some((call) => call.includes('/revert'))).toBe(false);
    bed.close();
  }, 60_000);
});

describe('the Gerrit reverter', () => {
  async function setup(body?: string) {
    const fake = new FakeGerrit(GERRIT);
    fake.install();
    const client = new GerritClient({
      url: GERRIT,
      username: 'ost-gate',
      password: 'secret',
      minTimeout: 1,
      retries: 0,
    });
    const c = fake.upload('app', { number: 7, subject: 'bad change', ...(body ? { body } : {}) });
    fake.submit([c]);
    const request = (refused?: string, submit = false): RevertRequest => ({
      queue: 'gerrit:gerrit.example.org/app@master',
      culprit: {
        id: 'gerrit:gerrit.example.org/app~7',
        host: 'gerrit',
        project: 'app',
        branch: 'master',
        sha: fake.revision(7),
        number: 7,
        title: 'bad change',
      },
      effect: {
        type: 'revert',
        change: 'gerrit:gerrit.example.org/app~7',
        confidence: 0.99995,
        evidence: [{ key: 'q.5-abc', end: 'x', result: 'failed', url: 'https://jenkins.example.org/job/ost/5/' }],
        submit,
        ...(refused ? { refused } : {}),
      },
      pageUrl: 'https://ost.example.org/changes/x',
    });
    const said = (n: number) => fake.reviews.filter((r) => r.number === n).map((r) => r.body.message);
    return { fake, reverter: new GerritReverter(client), request, said };
  }

  it('posts the reason of a guard of the queue on the culprit, once, and opens nothing', async () => {
    const { fake, reverter, request, said } = await setup();
    const why = 'the queue opened 4 revert(s) today, its revert.daily_limit of 4';
    await reverter.revert(request(why));
    await reverter.revert(request(why));
    expect(said(7)).toHaveLength(1);
    expect(said(7)[0]).toContain(
      `ost-gate did not open a revert of this change: ${why}. To revert it by hand: git revert ${fake.revision(7)}`,
    );
    expect(fake.calls.some((c) => c.endsWith('/revert'))).toBe(false);
  });

  it("respects the author's OST-No-Revert footer", async () => {
    const { fake, reverter, request, said } = await setup('OST-No-Revert: true');
    await reverter.revert(request());
    expect(said(7)[0]).toContain('its author opted out with the footer "OST-No-Revert: true"');
    expect(fake.calls.some((c) => c.endsWith('/revert'))).toBe(false);
  });

  it('says so when the account lacks the Revert right', async () => {
    const { fake, reverter, request, said } = await setup();
    fake.rights.revert = false;
    await reverter.revert(request());
    expect(said(7)[0]).toContain('the ost-gate account may not revert changes of app (it needs the Revert right)');
  });

  it('finds the revert it opened before a crash instead of opening another', async () => {
    const { fake, reverter, request, said } = await setup();
    // the crash: Gerrit made the revert, and the next call (its first message) never happened
    const answer = fake.answer.bind(fake);
    let crashed = false;
    fake.answer = (method, path, body) => {
      if (!crashed && method === 'POST' && path.includes('/review')) {
        crashed = true;
        return [500, 'the server went away'];
      }
      return answer(method, path, body);
    };
    await expect(reverter.revert(request())).rejects.toThrow();
    await reverter.revert(request());
    const reverts = fake.calls.filter((c) => c.endsWith('/revert'));
    expect(reverts).toHaveLength(1);
    expect(said(7).filter((m) => m.startsWith('ost-gate opened a revert'))).toHaveLength(1);
  });

  it('does nothing when a revert is merged already, and comments when one is open', async () => {
    const { fake, reverter, request, said } = await setup();
    await reverter.revert(request());
    const revert = fake.change(
      (await new GerritClient({ url: GERRIT, username: 'u', password: 'p' }).revertsOf(7))[0]!._number,
    );
    fake.submit([revert]);
    const before = fake.reviews.length;
    await reverter.revert(request());
    expect(fake.reviews.length).toBe(before);
    expect(said(revert.number)).toHaveLength(1);
  });

  it('submits the revert with revert.submit', async () => {
    const { fake, reverter, request, said } = await setup();
    await reverter.revert(request(undefined, true));
    expect(fake.restEvents.map((e) => e.type)).toContain('change-merged');
    expect(said(7)).toHaveLength(1);
  });

  it('says on the revert when it may not submit it, and leaves it open', async () => {
    const { fake, reverter, request, said } = await setup();
    fake.rights.submit = false;
    await reverter.revert(request(undefined, true));
    const revert = fake.change(8);
    expect(revert.revertOf).toBe(7);
    expect(revert.status).toBe('NEW');
    expect(said(8)).toContainEqual(
      expect.stringContaining(
        'ost-gate did not submit this revert: the ost-gate account may not submit it (it needs the Submit right)',
      ),
    );
  });
});
