// Gerrit events out of order under load (the change-merged and ref-updated of an older submit after
// those of a newer one: every change still gets its verdict), and the ost-priority hashtag.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { gerritBed } from '../helpers/gerrit.ts';
import { readQueue } from '../../src/engine/replay.ts';

const CONFIG = 'branches: [master]\nci:\n  provider: jenkins\n  job: ost\n  max_parallel: 2\n';

offline();

describe('Gerrit events out of order', () => {
  it.each([
    ['change-merged then ref-updated', (e: unknown[]) => e],
    ['ref-updated then change-merged', (e: unknown[]) => [...e].reverse()],
  ])(
    'tests an older submit whose events (%s) come after a newer one',
    async (_what, order) => {
      const bed = await gerritBed(() => CONFIG);
      const project = 'app';
      const first = bed.fake.submit([bed.fake.upload(project, { number: 1 })]);
      const second = bed.fake.submit([bed.fake.upload(project, { number: 2 })]);
      await bed.send(second);
      const [ref1, merged1] = [
        first.find((e) => e.type === 'ref-updated')!,
        first.find((e) => e.type === 'change-merged')!,
      ];
      await bed.send(order([merged1, ref1]) as typeof first);
      const queue = `gerrit:gerrit.example.org/${project}@master`;
      await bed.until(async () => {
        const changes = Object.values((await readQueue(bed.store, queue))?.state.changes ?? {});
        return changes.length === 2 && changes.every((c) => c.state === 'done');
      });
      const file = (await readQueue(bed.store, queue))!;
      expect(Object.fromEntries(Object.values(file.state.changes).map((c) => [c.number, c.verdict]))).toEqual({
        1: 'passed',
        2: 'passed',
      });
      bed.close();
    },
    20_000,
  );
});

describe('Gerrit events of three submits, the newest first', () => {
  it('tests the two older submits, whose events come after it and out of order, ahead of it', async () => {
    const bed = await gerritBed(() => CONFIG);
    const submits = [1, 2, 3].map((number) => bed.fake.submit([bed.fake.upload('app', { number })]));
    // the queue starts at the third; the first is held for its base, which only the second brings
    for (const n of [2, 0, 1]) await bed.send(submits[n]!);
    const queue = 'gerrit:gerrit.example.org/app@master';
    await bed.until(async () => {
      const changes = Object.values((await readQueue(bed.store, queue))?.state.changes ?? {});
      return changes.length === 3 && changes.every((c) => c.state === 'done');
    });
    const changes = Object.values((await readQueue(bed.store, queue))!.state.changes).sort((a, b) => a.seq - b.seq);
    expect(changes.map((c) => [c.number, c.verdict])).toEqual([
      [1, 'passed'],
      [2, 'passed'],
      [3, 'passed'],
    ]);
    bed.close();
  }, 20_000);
});

describe('the ost-priority hashtag', () => {
  it('on a merged change waiting for its run, sends a run up to it at once beside the batch in flight', async () => {
    const bed = await gerritBed(
      () =>
        'branches: [master]\nci:\n  provider: jenkins\n  job: ost\n  max_parallel: 4\ncommands:\n  permission: [ost-admins]\n',
    );
    bed.fake.groups['ost-admins'] = {
      members: [{ _account_id: 1000097, name: 'Lead', email: 'lead@example.org', username: 'lead' }],
      visibleToAll: true,
    };
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    await bed.until(async () => bed.builds.length === 1);
    await bed.merge('app', { number: 2 });
    await bed.merge('app', { number: 3 });
    expect(bed.builds).toHaveLength(1); // one batch in flight at a time
    const comment = bed.fake.commentAdded(3, '', 'lead');
    const tagged = {
      type: 'hashtags-changed',
      change: { ...comment.change!, status: 'MERGED' },
      editor: comment.author,
      added: ['ost-priority'],
      hashtags: ['ost-priority'],
      eventCreatedOn: comment.eventCreatedOn,
    };
    await bed.send([tagged as typeof comment]);
    expect(bed.reviews.at(-1)!.body.message).toMatch(/jumps the line/);
    await bed.until(async () => bed.builds.length === 2);
    // the prefix up to it: change 1, still under test in the batch, and 2 and 3
    expect(JSON.parse(bed.builds[1]!.OST_CHANGES!)).toEqual([
      'gerrit:gerrit.example.org/app~1',
      'gerrit:gerrit.example.org/app~2',
      'gerrit:gerrit.example.org/app~3',
    ]);
    const queue = 'gerrit:gerrit.example.org/app@master';
    expect((await readQueue(bed.store, queue))!.state.changes['gerrit:gerrit.example.org/app~3']!.priority).toBe(true);
    bed.setBuilding(false);
    bed.close();
  }, 20_000);
});
