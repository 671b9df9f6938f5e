// Gerrit events that arrive out of order under load: the change-merged and ref-updated of an older
// submit, after those of a newer one. Every change still gets its verdict.
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
