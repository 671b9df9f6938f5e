// What a Gerrit branch update queues: every change of a stack submitted together, with the commit
// the branch held just after it, for each submit type; the events in any order, or without
// ref-updated; commits pushed past review as changes of their own, bounded; never a change twice.
// Events go through the HTTP intake; the stand-in Gerrit moves its branches as the submit types do.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { gerritBed } from '../helpers/gerrit.ts';
import { SUBMIT_TYPES, type FakeChange, type SubmitType } from '../helpers/fake-gerrit.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { PUSH_LIMIT } from '../../src/hosts/gerrit/host.ts';
import { textMarker } from '../../src/report/markers.ts';

offline();

const CONFIG =
  'branches: [master]\nci: {provider: jenkins, job: ost, max_parallel: 2}\nflaky: {confirm: 0, confidence: 0}\n';
const QUEUE = 'gerrit:gerrit.example.org/app@master';
const id = (n: number) => `gerrit:gerrit.example.org/app~${n}`;

async function queued(bed: Awaited<ReturnType<typeof gerritBed>>) {
  const file = (await readQueue(bed.store, QUEUE))!;
  return {
    file,
    changes: Object.values(file.state.changes).sort((a, b) => a.seq - b.seq),
  };
}

/** A bed with a stack of three changes uploaded on the tip; `moved`: another change merged after the upload. */
async function stackBed(moved: boolean) {
  const bed = await gerritBed(() => CONFIG);
  bed.setBuilding(true);
  await bed.merge('app', { number: 1 });
  const stack = bed.fake.uploadStack('app', 3, { first: 11 });
  if (moved) await bed.merge('app', { number: 5 });
  return { bed, stack };
}

describe('a stack submitted together', () => {
  it.each(SUBMIT_TYPES.filter((t) => t !== 'FAST_FORWARD_ONLY').map((t) => [t]))(
    '%s, after the branch moved: every change queued with the commit the branch held after it, in merge order',
    async (type: SubmitType) => {
      const { bed, stack } = await stackBed(true);
      const before = bed.fake.tip('app');
      const events = bed.fake.submit(stack, type);
      // every change-merged carries the tip after the whole submission
      expect(new Set(events.slice(1).map((e) => e.newRev))).toEqual(new Set([bed.fake.tip('app')]));
      await bed.send(events);
      const { changes, file } = await queued(bed);
      const tail = changes.slice(2);
      if (type === 'MERGE_IF_NECESSARY' || type === 'MERGE_ALWAYS') {
        // one merge commit lands the whole stack: the commit is tested, the changes share its verdict
        expect(tail.map((c) => c.id)).toEqual([id(13)]);
        expect(tail[0]!.sha).toBe(bed.fake.tip('app'));
        expect(tail[0]!.parent).toBe(before);
        expect(tail[0]!.landedWith?.map((m) => m.id)).toEqual([id(11), id(12)]);
      } else {
        // rebase and cherry-pick make a new patch set per change: that commit is on the branch
        expect(tail.map((c) => c.id)).toEqual([id(11), id(12), id(13)]);
        expect(tail.map((c) => c.sha)).toEqual(stack.map((c: FakeChange) => bed.fake.revision(c.number)));
        expect(tail.map((c) => c.parent)).toEqual([before, tail[0]!.sha, tail[1]!.sha]);
        expect(stack.every((c) => c.patchSets.length === 2)).toBe(true);
      }
      expect(file.state.streams['gerrit:app@master']!.tip).toBe(bed.fake.tip('app'));
      bed.close();
    },
  );

  it.each([['FAST_FORWARD_ONLY'], ['MERGE_IF_NECESSARY'], ['REBASE_IF_NECESSARY']] as [SubmitType][])(
    '%s on an unmoved branch: each change is its own commit, none is lost',
    async (type) => {
      const { bed, stack } = await stackBed(false);
      await bed.send(bed.fake.submit(stack, type));
      const { changes } = await queued(bed);
      expect(changes.map((c) => [c.id, c.sha])).toEqual([
        [id(1), bed.fake.revision(1)],
        ...stack.map((c) => [id(c.number), bed.fake.revision(c.number)]),
      ]);
      expect(stack.every((c) => c.patchSets.length === 1)).toBe(true);
      bed.close();
    },
  );

  it('queues the stack in merge order whatever order the events come in, and without ref-updated', async () => {
    for (const order of ['reversed', 'no ref-updated'] as const) {
      const { bed, stack } = await stackBed(true);
      const [refUpdated, ...merged] = bed.fake.submit(stack, 'REBASE_IF_NECESSARY');
      await bed.send(order === 'reversed' ? [...merged.reverse(), refUpdated!] : merged);
      const { changes } = await queued(bed);
      expect(
        changes.map((c) => c.id),
        order,
      ).toEqual([id(1), id(5), id(11), id(12), id(13)]);
      expect(
        changes.map((c) => c.sha),
        order,
      ).toEqual([1, 5, 11, 12, 13].map((n) => bed.fake.revision(n)));
      bed.close();
    }
  });

  it('finds the stack of a merge on a Gerrit without submission ids (before 3.2), by the submission time', async () => {
    const { bed, stack } = await stackBed(true);
    bed.fake.noSubmissionIds = true;
    await bed.send(bed.fake.submit(stack, 'MERGE_ALWAYS'));
    const { changes } = await queued(bed);
    expect(changes.at(-1)!.landedWith?.map((m) => m.id)).toEqual([id(11), id(12)]);
    bed.close();
  });

  it('blames the change of the stack that broke the tests, not the first one', async () => {
    const { bed, stack } = await stackBed(true);
    bed.setBuilding(false);
    const events = bed.fake.submit(stack, 'REBASE_IF_NECESSARY');
    const culprit = bed.fake.revision(12);
    bed.setFails((refs) => bed.fake.contains(refs.app ?? '', culprit));
    await bed.send(events);
    await bed.until(async () => (await queued(bed)).changes.every((c) => c.state === 'done'));
    const { changes } = await queued(bed);
    expect(Object.fromEntries(changes.map((c) => [c.number, c.verdict]))).toEqual({
      1: 'passed',
      5: 'passed',
      11: 'passed',
      12: 'culprit',
      13: 'blocked',
    });
    expect(bed.reviews.find((r) => r.number === 12)!.body.message).toMatch(/^ost-gate: culprit/);
    bed.close();
  });

  it('posts the verdict of a merge commit on every change of the stack it landed, each saying so', async () => {
    const { bed, stack } = await stackBed(true);
    bed.setBuilding(false);
    const events = bed.fake.submit(stack, 'MERGE_ALWAYS');
    const merge = bed.fake.tip('app');
    bed.setFails((refs) => bed.fake.contains(refs.app ?? '', merge));
    await bed.send(events);
    await bed.until(async () => (await queued(bed)).changes.every((c) => c.state === 'done'));
    const culprits = bed.reviews.filter((r) => r.body.message.startsWith('ost-gate: culprit'));
    expect(culprits.map((r) => r.number).sort()).toEqual([11, 12, 13]);
    for (const r of culprits) {
      expect(r.body.message).toMatch(/landed in one merge commit together with/);
      expect(r.body.message).toContain(textMarker(QUEUE, id(r.number), 'culprit'));
    }
    // /ost status on a change of the stack finds it under the change it landed with
    await bed.send([bed.fake.commentAdded(11, '/ost status')]);
    expect(bed.reviews.at(-1)!.body.message).toMatch(/culprit/);
    bed.close();
  });
});

describe('commits pushed past review', () => {
  it('queues each first-parent commit as a change of its own, and blames the one that broke the tests', async () => {
    const bed = await gerritBed(() => CONFIG);
    await bed.merge('app', { number: 1 });
    let bad = '';
    bed.setFails((refs) => !!bad && bed.fake.contains(refs.app ?? '', bad));
    const events = bed.fake.push('app', [
      { subject: 'hotfix one' },
      { subject: 'hotfix two, broken' },
      { subject: 'three' },
    ]);
    const pushed = events[0]!.refUpdate!.newRev!;
    bad = commitsOf(bed, pushed, 3)[1]!;
    await bed.send(events);
    await bed.until(async () => (await queued(bed)).changes.every((c) => c.state === 'done'));
    const { changes, file } = await queued(bed);
    const pushes = changes.slice(1);
    expect(pushes.map((c) => c.id)).toEqual(commitsOf(bed, pushed, 3).map((s) => `gerrit:gerrit.example.org/app@${s}`));
    expect(pushes.map((c) => [c.title, c.number ?? null, c.verdict])).toEqual([
      ['hotfix one', null, 'passed'],
      ['hotfix two, broken', null, 'culprit'],
      ['three', null, 'blocked'],
    ]);
    expect(pushes[1]!.author).toBe('Dev <dev@example.org>');
    // nothing to post a review on: the queue's notices say it, naming the author
    expect(bed.reviews.filter((r) => r.number !== 1)).toEqual([]);
    expect(file.notices.find((n) => n.code === 'push-culprit')?.message).toMatch(
      /hotfix two, broken" by Dev <dev@example.org>, pushed to master without review, breaks the system tests/,
    );
    expect(changes[0]!.verdict).toBe('passed');
    bed.close();
  });

  it('queues a change that comes by review once, not again as a push', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    await bed.merge('app', { number: 2, type: 'CHERRY_PICK' });
    const { changes } = await queued(bed);
    expect(changes.map((c) => c.id)).toEqual([id(1), id(2)]);
    bed.close();
  });

  it('queues the merge of another branch, pushed past review, as one change', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    const side = bed.fake.commit([bed.fake.tip('app')], 'work on a side branch\n');
    await bed.send(bed.fake.push('app', [{ subject: "Merge branch 'stable'", merge: side }]));
    const { changes } = await queued(bed);
    expect(changes.map((c) => c.title)).toEqual(['app change 1', "Merge branch 'stable'"]);
    expect(changes[1]!.sha).toBe(bed.fake.tip('app'));
    bed.close();
  });

  it(`queues at most ${PUSH_LIMIT} commits of a push one by one, the older ones as one change, with a notice`, async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    const start = bed.fake.tip('app');
    const commits = Array.from({ length: PUSH_LIMIT + 3 }, (_, i) => ({ subject: `bulk ${i}` }));
    await bed.send(bed.fake.push('app', commits));
    const { changes, file } = await queued(bed);
    expect(changes).toHaveLength(1 + 1 + PUSH_LIMIT);
    const older = changes[1]!;
    expect(older.title).toMatch(/older commits of a push of more than 100, tested together/);
    expect(older.sha).toBe(commitsOf(bed, bed.fake.tip('app'), PUSH_LIMIT + 3)[2]);
    expect(changes.slice(2).map((c) => c.title)).toEqual(commits.slice(3).map((c) => c.subject));
    expect(file.notices.find((n) => n.code === 'push-cut')?.message).toMatch(/landed more than 100 commits/);
    expect(file.state.streams['gerrit:app@master']!.shas).toContain(start);
    bed.close();
  });

  it('takes a force-push as rewritten history, with a notice', async () => {
    const bed = await gerritBed(() => CONFIG);
    bed.setBuilding(true);
    await bed.merge('app', { number: 1 });
    await bed.merge('app', { number: 2 });
    const other = bed.fake.commit([bed.fake.revision(1)], 'rewritten two\n');
    await bed.send(bed.fake.forcePush('app', other));
    const { file } = await queued(bed);
    expect(file.notices.find((n) => n.code === 'history-rewritten')?.message).toMatch(/force-push to master/);
    expect(Object.values(file.state.changes).find((c) => c.title === 'rewritten two')?.sha).toBe(other);
    bed.close();
  });

  it("reads a reviewed change's commit with the change (one query), and the project's commit only for a push", async () => {
    const bed = await gerritBed(() => CONFIG);
    await bed.merge('app', { number: 1 });
    const commitReads = () => bed.fake.calls.filter((c) => /^GET \/a\/projects\/app\/commits\/[0-9a-f]+$/.test(c));
    const before = commitReads().length;
    await bed.merge('app', { number: 2 });
    expect(commitReads().length).toBe(before);
    const pushed = bed.fake.push('app', [{ subject: 'hotfix' }]);
    await bed.send(pushed);
    expect(commitReads()).toEqual([`GET /a/projects/app/commits/${pushed[0]!.refUpdate!.newRev!}`]);
    const { changes } = await queued(bed);
    expect(changes.map((c) => [c.id, c.title, c.parent])).toEqual([
      [id(1), expect.any(String), expect.any(String)],
      [id(2), expect.any(String), changes[0]!.sha],
      [`gerrit:gerrit.example.org/app@${pushed[0]!.refUpdate!.newRev!}`, 'hotfix', changes[1]!.sha],
    ]);
    bed.close();
  });

  it('ignores branch creation, deletion, patch set refs and tags', async () => {
    const bed = await gerritBed(() => CONFIG);
    const zero = '0'.repeat(40);
    const tip = bed.fake.createProject('app');
    await bed.send([
      bed.fake.refUpdated('app', 'master', zero, tip),
      { ...bed.fake.refUpdated('app', 'master', tip, zero) },
      { type: 'ref-updated', refUpdate: { project: 'app', refName: 'refs/changes/01/1/1', oldRev: zero, newRev: tip } },
      { type: 'ref-updated', refUpdate: { project: 'app', refName: 'refs/tags/v1', oldRev: zero, newRev: tip } },
    ]);
    expect(await bed.store.listQueues()).toEqual([]);
    expect(bed.fake.calls.filter((c) => c.includes('/commits/'))).toEqual([]);
    bed.close();
  });
});

/** The newest `n` first-parent commits up to `tip`, oldest first. */
function commitsOf(bed: Awaited<ReturnType<typeof gerritBed>>, tip: string, n: number): string[] {
  const out: string[] = [];
  let sha: string | undefined = tip;
  while (sha && out.length < n) {
    out.unshift(sha);
    sha = bed.fake.parentOf(sha);
  }
  return out;
}
