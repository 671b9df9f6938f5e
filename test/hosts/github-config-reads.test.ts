// A GitHub repository's .github/ost-gate.yml is read once, and again only when a push may have
// changed it: a commit of the push touches it, the push does not follow the one it was read at, it
// is a force-push, or it has more commits than the payload lists. A config that extends another
// file is read on every push (the push cannot show a change of the other file).
import { describe, expect, it } from 'vitest';
import { offline } from '../helpers/network.ts';
import { checkRun, checkRunList, dispatchDetails } from '../helpers/github-answers.ts';
import { githubBed, pushPayload, REPO } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

offline();

const config = (parallel: number) =>
  `ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: ${parallel}\nbranches: [main]\n`;
const QUEUE = `github:${REPO}@main`;
const sha = (n: number) => n.toString(16).padStart(40, '0');

async function bedWith(text: () => string) {
  const bed = await githubBed(text);
  bed.api.get(/\/commits\/[0-9a-f]{40}\/pulls/).reply(200, []);
  bed.api.get(/check-runs/).reply(200, checkRunList());
  bed.api.post(/check-runs/).reply(201, checkRun({ id: 1 }));
  bed.api.post(/dispatches/).reply(200, dispatchDetails(1));
  bed.api.patch(/check-runs/).reply(200, checkRun({ id: 1 }));
  const reads = () => bed.sent.filter((s) => s.method === 'GET' && s.path.includes('/contents/')).length;
  const maxParallel = async () => (await readQueue(bed.store, QUEUE))!.repoConfig?.ci.max_parallel;
  /** Pushes commits `from+1..to` on `from`, touching `files`. */
  const push = (from: number, to: number, files?: string[], forced = false) => {
    const commits = [];
    for (let n = from + 1; n <= to; n++)
      commits.push({ id: sha(n), message: `commit ${n}`, ...(files ? { files } : {}) });
    return bed.receive('push', pushPayload(sha(from), commits, 'main', forced));
  };
  return { bed, reads, maxParallel, push };
}

describe('reading a GitHub repository config', () => {
  it('once while pushes leave it alone, and again when one may have changed it', async () => {
    const parallel = { value: 1 };
    const { reads, maxParallel, push } = await bedWith(() => config(parallel.value));
    await push(0, 1);
    await push(1, 2);
    await push(2, 4);
    expect(reads()).toBe(1);
    parallel.value = 2;
    await push(4, 5, ['.github/ost-gate.yml']);
    expect([reads(), await maxParallel()]).toEqual([2, 2]);
    await push(5, 6);
    expect(reads()).toBe(2);
    // a push that does not follow the last one seen (a delivery was lost)
    parallel.value = 3;
    await push(7, 8);
    expect([reads(), await maxParallel()]).toEqual([3, 3]);
    // a force-push, and a push of more commits than the payload lists
    await push(8, 9, undefined, true);
    expect(reads()).toBe(4);
    await push(9, 29);
    expect(reads()).toBe(5);
    await push(29, 30);
    expect(reads()).toBe(5);
  });

  it('on every push when the config extends another file', async () => {
    const { bed, reads, push } = await bedWith(() => `_extends: .github\n${config(1)}`);
    bed.api
      .get(/\/repos\/Codertocat\/\.github\/contents\//)
      .reply(200, 'commands: {permission: write}\n', { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
    const before = reads();
    await push(0, 1);
    await push(1, 2);
    // each read asks for the repository's file and the one it extends
    expect(reads() - before).toBe(4);
  });
});
