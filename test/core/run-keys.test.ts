// Run keys name the queue that made them: the read model finds a CI result's queue from its key's prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyQueue, runKeyPrefix, step } from '../../src/core/index.ts';
import { safeSlug } from '../../src/store/slug.ts';

describe('run keys', () => {
  it("give back the key prefix of the queue that made them, whatever the queue's name and the salt", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.option(fc.stringMatching(/^[0-9a-f]{1,12}$/)), (name, salt) => {
        const state = emptyQueue(name, {}, safeSlug(name));
        const { state: after } = step(state, {
          type: 'merged',
          at: 0,
          stream: { host: 'git', project: 'app', branch: 'main' },
          changes: [{ id: 'a', sha: 'sha-a' }],
          ...(salt ? { salt } : {}),
        });
        const keys = Object.keys(after.runs);
        expect(keys.length).toBeGreaterThan(0);
        for (const key of keys) expect(runKeyPrefix(key)).toBe(safeSlug(name));
      }),
    );
  });

  it('gives no prefix for a key no queue made', () => {
    expect(runKeyPrefix('nothing-here')).toBeNull();
    expect(runKeyPrefix('.12')).toBeNull();
  });
});
