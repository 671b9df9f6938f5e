// The bounded map and set: at most their size, the oldest entry dropped first, a re-set key the newest.
import { describe, expect, it } from 'vitest';
import { BoundedMap, BoundedSet } from '../../src/util/bounded.ts';

describe('bounded collections', () => {
  it('keep at most their size, dropping the oldest, and count a key set again as the newest', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...map.entries()]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
    const set = new BoundedSet<string>(2);
    set.add('x').add('y').add('x').add('z');
    expect([...set]).toEqual(['x', 'z']);
  });
});
