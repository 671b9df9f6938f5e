// `npm run bench:ha`: ost-gate over HTTP as real processes, fed Gerrit `ref-updated` and
// `change-merged` events by concurrent senders to random replicas, with a stand-in webhook CI that
// passes every run at once (test/helpers/replica-bed.ts). For the embedded store (one server) and for
// 1 and 3 replicas on one PostgreSQL (a throwaway cluster started here): events accepted per second,
// changes applied per second (a change is applied when the journal first holds a step of its merge:
// the engine's clock in that record), p50/p99 from the acknowledgement of a change's events to its
// being applied, and WAL bytes per event. `--kills N` then SIGKILLs a queue-writing replica of 3 N times under the same
// stream and reports how long its queues had no writer, and whether anything was lost or posted twice
// (`--kills-only` runs only that; `--lease S` sets the leases' time, 4 s by default here).
// `--setups embedded,pg1,pg3` picks the setups; `--ci command` runs each run with a `command:` runner
// that exits 0 at once (/bin/true) instead of the webhook CI.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import nock from 'nock';
import pg from 'pg';
import type { GerritEvent } from '../src/hosts/gerrit/types.ts';
import { quantile } from '../src/sim/metrics.ts';
import { parseJournal } from '../src/store/journal-file.ts';
import type { JournalRecord } from '../src/store/types.ts';
import { startPostgres } from '../test/helpers/postgres.ts';
import { ReplicaBed } from '../test/helpers/replica-bed.ts';

// the stand-in Gerrit's module loads nock, which intercepts every request of this process: the
// senders and the stand-ins here talk to the servers over real HTTP, without nock in between
nock.restore();

const POLL_MS = 1000;
/** How often the changes are read while the senders send. */
const SENDING_POLL_MS = 5000;
/** How long the next kill waits after the killed replica's queues were taken over. */
const KILL_SPACING_MS = 3000;
const { values } = parseArgs({
  options: {
    queues: { type: 'string', default: '50' },
    changes: { type: 'string', default: '400' },
    senders: { type: 'string', default: '8' },
    kills: { type: 'string', default: '0' },
    'kills-only': { type: 'boolean', default: false },
    lease: { type: 'string', default: '4' },
    setups: { type: 'string', default: 'embedded,pg1,pg3' },
    ci: { type: 'string', default: 'webhook' },
  },
});
const CI = values.ci === 'command' ? 'command' : 'webhook';
if (values.ci !== CI) throw new Error(`--ci ${values.ci}: give webhook or command`);
const QUEUES = Number(values.queues);
const CHANGES = Number(values.changes);
const SENDERS = Number(values.senders);
const KILLS = Number(values.kills);

interface Figures {
  setup: string;
  acceptedPerS: number;
  appliedPerS: number;
  p50Ms: number;
  p99Ms: number;
  walBytesPerEvent: number | null;
  notes: string;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function walLsn(adminUrl: string | null): Promise<string | null> {
  if (!adminUrl) return null;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  } finally {
    await client.end();
  }
}

/**
 * When each change was applied: the engine's clock in the first journal record that stepped the
 * merge carrying it (the database's journal, or the embedded store's journal files of `dataDir`).
 */
async function appliedTimes(databaseUrl: string | null, dataDir: string): Promise<Map<string, number>> {
  const records: JournalRecord[] = [];
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      records.push(
        ...(await client.query<{ record: JournalRecord }>('SELECT record FROM ost_journal')).rows.map((r) => r.record),
      );
    } finally {
      await client.end();
    }
  } else {
    const dir = join(dataDir, 'queues');
    for (const f of (await readdir(dir)).filter((n) => n.endsWith('.journal')))
      records.push(...parseJournal(await readFile(join(dir, f), 'utf8'), f, 0).records);
  }
  const times = new Map<string, number>();
  for (const r of records) {
    if (r.type !== 'step' || r.event.type !== 'merged') continue;
    for (const c of r.event.changes) {
      const id = c.id.replace(/^gerrit:[^/]+\//, '');
      times.set(id, Math.min(times.get(id) ?? Infinity, r.at));
    }
  }
  return times;
}

async function walBytes(adminUrl: string, from: string, to: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const r = await client.query<{ d: string }>('SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::text AS d', [
      from,
      to,
    ]);
    return Number(r.rows[0]!.d);
  } finally {
    await client.end();
  }
}

/** One run: the events of CHANGES changes over QUEUES projects, sent by SENDERS at once. */
async function run(
  setup: string,
  bed: ReplicaBed,
  db: { adminUrl: string; url: string } | null,
  kills: number,
): Promise<Figures> {
  const adminUrl = db?.adminUrl ?? null;
  const changes: { id: string; events: GerritEvent[] }[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const events = bed.mergeChange(i % QUEUES);
    const c = events.find((e) => e.type === 'change-merged')!.change!;
    changes.push({ id: `${c.project}~${c.number}`, events });
  }
  const acknowledged = new Map<string, number>();
  const seen = new Set<string>();
  let notAcknowledged = 0;
  let next = 0;
  const walBefore = await walLsn(adminUrl);
  const start = Date.now();
  const send = async () => {
    while (next < changes.length) {
      const change = changes[next++]!;
      for (const event of change.events)
        for (let attempt = 0; ; attempt++) {
          if ((await bed.send(event)) === 202) {
            // accepted with its first event (ref-updated alone already queues it)
            if (!acknowledged.has(change.id)) acknowledged.set(change.id, Date.now());
            break;
          }
          notAcknowledged++;
          if (attempt > 600) throw new Error(`no replica acknowledged ${change.id}`);
          await sleep(100);
        }
    }
  };
  const killer = async () => {
    const gaps: number[] = [];
    for (let k = 0; k < kills; k++) {
      while (next < ((k + 0.5) * changes.length) / kills) await sleep(20);
      const writer = await bed.until(() => bed.writer());
      const orphaned = (await bed.part(writer)) ?? [];
      const killedAt = Date.now();
      await bed.killAndRestart(writer);
      // its queues are written again once the replicas alive (the restarted one too) say they write them all
      await bed.until(async () => {
        const written = new Set<string>();
        for (const r of bed.replicas) for (const q of (await bed.part(r)) ?? []) written.add(q);
        return orphaned.every((q) => written.has(q));
      });
      gaps.push(Date.now() - killedAt);
      // the queues' new writers recover and apply what waited before the next kill
      await sleep(KILL_SPACING_MS);
    }
    return gaps;
  };
  let sending = true;
  let progressAt = Date.now();
  let polledAt = 0;
  const poll = async () => {
    while (sending || seen.size < changes.length) {
      // reading every queue costs the servers a request per queue: seldom while the senders are
      // measured, often enough to see each change before it is pruned (50 finished kept per queue)
      if (sending && Date.now() - polledAt < SENDING_POLL_MS) {
        await sleep(POLL_MS);
        continue;
      }
      polledAt = Date.now();
      const writer = await bed.writer();
      const all = writer ? await bed.changes(writer).catch(() => []) : [];
      const now = Date.now();
      const before = seen.size;
      for (const c of all) seen.add(c.id.replace(/^gerrit:[^/]+\//, ''));
      if (seen.size > before || sending) progressAt = now;
      if (now - progressAt > 60_000) {
        const missing = changes.filter((c) => !seen.has(c.id)).map((c) => c.id);
        throw new Error(`gave up: ${seen.size} of ${changes.length} applied; missing ${missing.join(' ')}`);
      }
      await sleep(POLL_MS);
    }
  };
  const polling = poll();
  const killing = killer();
  await Promise.all(Array.from({ length: SENDERS }, send));
  const sentAt = Date.now();
  sending = false;
  const [unsortedGaps] = await Promise.all([killing, polling]);
  const gaps = unsortedGaps.sort((a, b) => a - b);
  const applied = await appliedTimes(db?.url ?? null, join(bed.dir, 'data-r0'));
  const lastApplied = Math.max(...applied.values());
  const walAfter = await walLsn(adminUrl);
  // a change whose step a snapshot has taken out of the journal since has no time: left out of the latencies
  const timed = changes.filter((c) => applied.has(c.id));
  const latencies = timed.map((c) => Math.max(0, applied.get(c.id)! - acknowledged.get(c.id)!)).sort((a, b) => a - b);
  const events = changes.length * 2;
  const reviews = new Map<string, number>();
  for (const r of bed.gerrit.reviews) {
    const key = `${r.project}~${r.number}:${r.body.message}`;
    reviews.set(key, (reviews.get(key) ?? 0) + 1);
  }
  const twice = [...reviews.values()].filter((n) => n > 1).length;
  const resent = [...bed.dispatched.values()].filter((n) => n > 1).length;
  const notes = [
    kills
      ? `${kills} kills of a replica writing queues: its queues had no writer for ${quantile(gaps, 0.5) / 1000} s median, ${Math.max(...gaps) / 1000} s at most`
      : '',
    timed.length < changes.length ? `latencies of the ${timed.length} changes whose step is still in the journal` : '',
    `${notAcknowledged} sends not acknowledged (sent again)`,
    `${twice} reviews posted twice`,
    `${resent} of ${bed.dispatched.size} runs sent again`,
  ]
    .filter(Boolean)
    .join('; ');
  return {
    setup,
    acceptedPerS: Math.round((events / (sentAt - start)) * 1000),
    appliedPerS: Math.round((events / (lastApplied - start)) * 1000),
    p50Ms: Math.round(quantile(latencies, 0.5)),
    p99Ms: Math.round(quantile(latencies, 0.99)),
    walBytesPerEvent:
      walBefore && walAfter && adminUrl ? Math.round((await walBytes(adminUrl, walBefore, walAfter)) / events) : null,
    notes,
  };
}

async function main(): Promise<void> {
  const server = await startPostgres();
  const results: Figures[] = [];
  try {
    const chosen = values.setups.split(',');
    const setups: { id: string; name: string; replicas: number; database: boolean; kills: number }[] = [
      { id: 'embedded', name: 'embedded store, 1 server', replicas: 1, database: false, kills: 0 },
      { id: 'pg1', name: 'PostgreSQL, 1 replica', replicas: 1, database: true, kills: 0 },
      { id: 'pg3', name: 'PostgreSQL, 3 replicas', replicas: 3, database: true, kills: 0 },
      ...(KILLS
        ? [{ id: 'kills', name: `PostgreSQL, 3 replicas, ${KILLS} kills`, replicas: 3, database: true, kills: KILLS }]
        : []),
    ];
    for (const s of setups.filter((x) => (values['kills-only'] ? x.kills : chosen.includes(x.id) || x.kills))) {
      const database = s.database ? await server.database() : null;
      const bed = await ReplicaBed.start({
        databaseUrl: database,
        replicas: s.replicas,
        projects: QUEUES,
        leaseSeconds: Number(values.lease),
        ci: CI,
      });
      try {
        const figures = await run(s.name, bed, database ? { adminUrl: server.url, url: database } : null, s.kills);
        results.push(figures);
        console.error(JSON.stringify(figures));
      } finally {
        await bed.stop();
      }
    }
  } finally {
    await server.stop();
  }
  console.log(
    `\n${CHANGES} changes (${2 * CHANGES} events) over ${QUEUES} queues, ${SENDERS} senders, ${CI} CI, 2 cores\n`,
  );
  console.log('| setup | accepted events/s | applied events/s | accepted -> applied p50 | p99 | WAL bytes/event |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.setup} | ${r.acceptedPerS} | ${r.appliedPerS} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.walBytesPerEvent ?? '-'} |`,
    );
  for (const r of results) console.log(`- ${r.setup}: ${r.notes}`);
}

await main();
