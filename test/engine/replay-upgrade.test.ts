// A queue file written before a setting existed: loading it gives the setting its default, so that
// what reads it (the try limit here) never sees it missing.
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/core/index.ts';
import { replay } from '../../src/engine/replay.ts';
import { ask, passed, tries } from '../helpers/tries.ts';

describe('loading a queue written before a setting existed', () => {
  it('fills the missing setting with its default, and keeps the ones it has', () => {
    const h = passed({ maxParallel: 4 });
    const old = structuredClone(h.file());
    delete (old.state.settings as Partial<typeof old.state.settings>).tryMaxParallel;
    const loaded = replay({ snapshot: old, journal: [] }, old.name);
    expect(loaded.state.settings).toEqual({ ...h.state.settings, tryMaxParallel: defaultSettings.tryMaxParallel });
    // a try then goes out, one at a time
    h.state = loaded.state;
    ask(h, 1);
    ask(h, 2);
    expect(tries(h).map((r) => r.end)).toEqual(['git:app#1']);
  });
});
