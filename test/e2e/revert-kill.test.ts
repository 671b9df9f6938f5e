// `ost-gate serve` on Gerrit with revert.auto, killed (SIGKILL) right after Gerrit opened the revert of a
// culprit, ten times (one culprit in each of ten projects): each culprit has exactly one revert
// afterwards, the restarted server having found the revert it opened instead of opening another.
import { describe, expect, it } from 'vitest';
import { ReplicaBed, type BedReplica } from '../helpers/replica-bed.ts';

const KILLS = 10;
const CONFIG =
  'ci:\n  provider: webhook:ci\n  max_parallel: 2\nflaky:\n  confirm: 1\n  confidence: 0.99\n' +
  'revert:\n  auto: true\n  confidence: 0.99\n  daily_limit: 20\n';

describe('serve with revert.auto, killed right after opening a revert', () => {
  it(`opens exactly one revert per culprit through ${KILLS} kills`, async () => {
    const culprits = new Set<string>();
    let bed: ReplicaBed | null = null;
    bed = await ReplicaBed.start({
      databaseUrl: null,
      replicas: 1,
      projects: KILLS,
      fails: (refs) => Object.values(refs).some((sha) => [...culprits].some((c) => bed!.gerrit.contains(sha, c))),
    });
    try {
      bed.gerrit.configFor = () => CONFIG;
      let killed: Promise<BedReplica> | null = null;
      bed.onGerritRequest = (method, path) => {
        // the revert exists in Gerrit, and the server never hears Gerrit's answer
        if (method === 'POST' && path.endsWith('/revert') && !killed) killed = bed!.killAndRestart(bed!.replicas[0]!);
      };
      for (let p = 0; p < KILLS; p++) {
        const change = bed.gerrit.upload(`p${p}`);
        culprits.add(bed.gerrit.revision(change.number));
        for (const event of bed.gerrit.submit([change], 'FAST_FORWARD_ONLY'))
          await bed.until(async () => (await bed!.send(event)) === 202);
        await bed.until(async () => killed);
        await killed;
        killed = null;
        // the restarted server performs the revert entry again: it finds the revert and says so on the culprit
        await bed.until(async () =>
          bed!.gerrit.reviews.some(
            (r) => r.number === change.number && r.body.message.startsWith('ost-gate opened a revert'),
          ),
        );
        const reverts = bed.gerrit.revertsOf(change.number);
        expect(reverts, `reverts of change ${change.number}`).toHaveLength(1);
        // it was looked for before opening it, and again by the restarted server
        const lookups = bed.gerrit.calls.filter(
          (c) => c.includes(`revertof%3A${change.number}&`) || c.endsWith(`revertof%3A${change.number}`),
        );
        expect(lookups.length, `lookups of the reverts of change ${change.number}`).toBeGreaterThanOrEqual(2);
      }
      expect(bed.gerrit.calls.filter((c) => c.startsWith('POST') && c.endsWith('/revert'))).toHaveLength(KILLS);
      expect(bed.faults).toEqual([]);
    } finally {
      await bed.stop();
    }
  }, 600_000);
});
