// A Gerrit project's .ost-gate.yml is read once, and again only when a branch update may have
// changed it: a change or a push that touches the file, a stack whose member touches it, a move that
// does not follow the one the config was read at (an event missed), or a force-push. Its settings
// reach the queue as soon as the change that brought them lands.
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { gerritBed } from '../helpers/gerrit.ts';
import { readQueue } from '../../src/engine/replay.ts';

offline();

const config = (parallel: number) =>
  `branches: [master]\nci: {provider: jenkins, job: ost, max_parallel: ${parallel}}\n`;
const QUEUE = 'gerrit:gerrit.example.org/app@master';
const CONFIG_READ = 'GET /a/projects/app/branches/master/files/.ost-gate.yml/content';

async function bedWith(parallel: { value: number }) {
  const bed = await gerritBed(() => config(parallel.value));
  bed.setBuilding(true);
  const reads = () => bed.fake.calls.filter((c) => c === CONFIG_READ).length;
  const maxParallel = async () => (await readQueue(bed.store, QUEUE))!.repoConfig?.ci.max_parallel;
  return { bed, reads, maxParallel };
}

describe('reading a Gerrit project config', () => {
  it('once while the changes that land leave it alone, and again when a change or a push touches it', async () => {
    const parallel = { value: 2 };
    const { bed, reads, maxParallel } = await bedWith(parallel);
    for (let n = 1; n <= 4; n++) await bed.merge('app', { number: n });
    expect(reads()).toBe(1);
    parallel.value = 3;
    await bed.merge('app', { number: 5, files: ['.ost-gate.yml', 'src/x.c'] });
    expect(reads()).toBe(2);
    expect(await maxParallel()).toBe(3);
    await bed.merge('app', { number: 6 });
    expect(reads()).toBe(2);
    parallel.value = 4;
    await bed.send(bed.fake.push('app', [{ subject: 'raise the parallel runs', files: ['.ost-gate.yml'] }]));
    expect(reads()).toBe(3);
    expect(await maxParallel()).toBe(4);
    const changes = Object.keys((await readQueue(bed.store, QUEUE))!.state.changes);
    expect(changes).toHaveLength(7);
    bed.close();
  });

  it('again when a member of a stack submitted together touches it', async () => {
    const parallel = { value: 2 };
    const { bed, reads, maxParallel } = await bedWith(parallel);
    await bed.merge('app', { number: 1 });
    // a stack of three whose middle change brings the config
    const stack = [bed.fake.upload('app', { number: 11 })];
    stack.push(bed.fake.upload('app', { number: 12, on: bed.fake.revision(11), files: ['.ost-gate.yml'] }));
    stack.push(bed.fake.upload('app', { number: 13, on: bed.fake.revision(12) }));
    parallel.value = 3;
    await bed.send(bed.fake.submit(stack, 'MERGE_ALWAYS'));
    expect(reads()).toBe(2);
    expect(await maxParallel()).toBe(3);
    bed.close();
  });

  it('again when an update does not follow the one it was read at (an event was missed)', async () => {
    const parallel = { value: 2 };
    const { bed, reads, maxParallel } = await bedWith(parallel);
    await bed.merge('app', { number: 1 });
    // change 2 brings a new config, and its events never reach the bot
    parallel.value = 3;
    bed.fake.submit([bed.fake.upload('app', { number: 2, files: ['.ost-gate.yml'] })]);
    await bed.merge('app', { number: 3 });
    expect(reads()).toBe(2);
    expect(await maxParallel()).toBe(3);
    bed.close();
  });
});
