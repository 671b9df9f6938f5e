// `ost-gate serve` on Gerrit with a `command:` runner: `/ost try` on an open change runs it, and the
// server is SIGKILLed as Gerrit takes the result's review message, before the server hears Gerrit's
// answer: restarted, it posts the result no second time. The message links the run's log on this
// server, which serves it.
import { describe, expect, it } from 'vitest';
import { ReplicaBed, type BedReplica } from '../helpers/replica-bed.ts';

const PUBLIC_URL = 'https://ost.example.org';
const CONFIG = 'ci:\n  provider: command:ci\n  max_parallel: 2\ncommands:\n  permission: [ost-admins]\n';

describe('serve: /ost try on Gerrit, killed as its result is posted', () => {
  it('posts the result once, with a link to the run log the server keeps', async () => {
    const bed = await ReplicaBed.start({
      databaseUrl: null,
      replicas: 1,
      projects: 1,
      ci: 'command',
      env: { OST_PUBLIC_URL: PUBLIC_URL },
    });
    try {
      bed.gerrit.configFor = () => CONFIG;
      bed.gerrit.groups['ost-admins'] = {
        members: [{ _account_id: 1000097, name: 'Lead', email: 'lead@example.org', username: 'lead' }],
        visibleToAll: true,
      };
      // a merged change first: the queue exists and has a last passing commit
      const merged = bed.gerrit.upload('p0');
      for (const event of bed.gerrit.submit([merged], 'FAST_FORWARD_ONLY'))
        await bed.until(async () => (await bed.send(event)) === 202);
      // (an empty list is not enough: the events may not have made the queue yet)
      await bed.until(async () => {
        const changes = await bed.changes();
        return (changes.length > 0 && changes.every((c) => c.state === 'passed')) || null;
      });
      const open = bed.gerrit.upload('p0');
      let killed: Promise<BedReplica> | null = null;
      bed.onGerritRequest = (method, path) => {
        if (method === 'POST' && path.endsWith('/review') && !killed) {
          const last = bed.gerrit.reviews.at(-1)!;
          if (last.number === open.number && last.body.message.startsWith('ost-gate try'))
            killed = bed.killAndRestart(bed.replicas[0]!);
        }
      };
      const comment = bed.gerrit.commentAdded(open.number, '/ost try', 'lead');
      await bed.until(async () => (await bed.send(comment)) === 202);
      await bed.until(async () => killed);
      const restarted = await killed!;
      // the restarted server performs the result again: it finds its message and posts none
      await bed.until(
        async () => bed.gerrit.calls.filter((c) => c.includes(`~${open.number}/messages`)).length >= 2 || null,
      );
      await new Promise((r) => setTimeout(r, 1500));
      const results = bed.gerrit.reviews.filter(
        (r) => r.number === open.number && r.body.message.startsWith('ost-gate try'),
      );
      expect(results).toHaveLength(1);
      expect(results[0]!.body.message).toMatch(/^ost-gate try: passed/);
      const log = new RegExp(`${PUBLIC_URL}/api/runs/([^/\\s]+)/log`).exec(results[0]!.body.message);
      expect(log, results[0]!.body.message).not.toBeNull();
      const served = await fetch(`${restarted.base}/api/runs/${log![1]}/log`);
      expect(served.status).toBe(200);
      // /bin/true prints nothing: the log is there, empty
      expect(served.headers.get('content-type')).toMatch(/^text\/plain/);
      expect((await served.text()).trim()).toBe('');
      expect(bed.faults).toEqual([]);
    } finally {
      await bed.stop();
    }
  }, 120_000);
});
