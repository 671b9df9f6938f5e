// PostgreSQL restarted (`pg_ctl restart -m fast`) while Gerrit events keep coming to a replica:
// during the outage an event is refused with 503 (never a 2xx for something not stored), its sender
// delivers it again, and afterwards every change is applied and reviewed once.
import { describe, expect, it } from 'vitest';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import { usePostgres } from '../helpers/postgres.ts';
import { ReplicaBed } from '../helpers/replica-bed.ts';

const postgres = usePostgres();

const PROJECTS = 3;
const CHANGES = 24;

describe('PostgreSQL restarted under load', () => {
  it('answers 503 while it is down, and applies every event it acknowledged', async () => {
    const bed = await ReplicaBed.start({
      databaseUrl: await postgres.server().database(),
      replicas: 1,
      projects: PROJECTS,
    });
    try {
      const statuses = new Map<number, number>();
      const deliver = async (event: GerritEvent) => {
        for (let attempt = 0; attempt < 600; attempt++) {
          const status = await bed.send(event);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 202) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`${event.type} was not acknowledged after 600 attempts`);
      };
      // while the database is down, an event is refused with 503 and its sender tries again later
      await postgres.server().down();
      const [first, second] = bed.mergeChange(0);
      expect(await bed.send(first!)).toBe(503);
      await postgres.server().up();
      for (const event of [first!, second!]) await deliver(event);
      // and restarted while events keep coming
      let restarted: Promise<void> | null = null;
      for (let i = 1; i < CHANGES; i++) {
        for (const event of bed.mergeChange(i % PROJECTS)) await deliver(event);
        if (i === CHANGES / 4) restarted = postgres.server().restart();
      }
      await restarted;
      // every change passed, and its review posted (a review waits for its step; one whose posting met
      // the outage is tried again after a backoff)
      const reviewed = () => new Set(bed.gerrit.reviews.map((r) => `${r.project}~${r.number}`)).size;
      const changes = await bed.until(async () => {
        const all = await bed.changes();
        return all.length === CHANGES && all.every((c) => c.state === 'passed') && reviewed() === CHANGES ? all : null;
      });
      expect(changes).toHaveLength(CHANGES);
      // only acknowledgements and refusals: never an error that leaves the sender guessing
      expect([...statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
      const reviews = new Map<string, number>();
      for (const r of bed.gerrit.reviews)
        reviews.set(`${r.project}~${r.number}`, (reviews.get(`${r.project}~${r.number}`) ?? 0) + 1);
      expect(reviews.size).toBe(CHANGES);
      expect([...reviews.values()].every((n) => n === 1)).toBe(true);
      console.log(`restart under load: ${JSON.stringify(Object.fromEntries(statuses))} answers by status`);
    } finally {
      await bed.stop();
    }
  }, 300_000); // a hang guard: about 10 s on a quiet machine
});
