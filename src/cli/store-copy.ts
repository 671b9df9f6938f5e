// `ost-gate store copy --from <data dir | postgres://...> --to <data dir | postgres://...>`: moves a
// store into another, the embedded one into PostgreSQL or back (a backup, a move back). Every queue
// is read first (one that cannot be read stops the copy before anything is written), then written to
// the target as a snapshot, with its verdict history. A target that holds queues is refused, and so
// is a store in use: a server that owns the data directory, or a replica holding a lease.
import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readQueue } from '../engine/replay.ts';
import { SetupError } from '../config/setup-error.ts';
import { createLogger, type Logger } from '../log.ts';
import { claimDataDir } from '../store/data-dir-owner.ts';
import { LowdbStore } from '../store/lowdb-store.ts';
import { openDatabase } from '../store/pg/database.ts';
import { PgInbox } from '../store/pg/inbox.ts';
import { PgStore } from '../store/pg/pg-store.ts';
import { leaseHolder } from '../store/pg/queue-leases.ts';
import type { QueueFile, Store } from '../store/types.ts';
import type { VerdictRecord } from '../core/index.ts';
import { parseCommand } from './args.ts';
import { UsageError } from './errors.ts';

export const storeHelp = `Usage: ost-gate store copy --from SOURCE --to TARGET

Copies every queue and its verdict history from one store to another: a data directory (the
embedded store) or a PostgreSQL URL (postgres://user:password@host:5432/database). The target must
hold no queue, and neither store may be in use: stop the server (or every replica) first.
  --from SOURCE   the store to read
  --to TARGET     the store to write (a PostgreSQL database gets its schema first)
`;

/** The verdicts a history is read with: all of them. */
const ALL_VERDICTS = Number.MAX_SAFE_INTEGER;

interface OpenedAt {
  store: Store;
  label: string;
  close(): Promise<void>;
}

const isDatabase = (where: string) => /^postgres(ql)?:\/\//.test(where);

/** A store at `where`, for this copy alone: the data directory claimed, or the database's lease free. */
async function openAt(where: string, log: Logger, role: 'source' | 'target'): Promise<OpenedAt> {
  if (!isDatabase(where)) {
    const dir = resolve(where);
    if (role === 'target') await mkdir(dir, { recursive: true });
    else if (!(await stat(dir).catch(() => null))?.isDirectory())
      throw new SetupError(`store copy: there is no data directory at ${dir}`);
    const owner = await claimDataDir(dir, log);
    return { store: new LowdbStore(dir, { readOnly: role === 'source' }), label: dir, close: () => owner.release() };
  }
  const db = await openDatabase(where, log);
  try {
    const holder = await leaseHolder(db.pool);
    if (holder)
      throw new SetupError(`store copy: replica ${holder} is writing to ${db.label}: stop every replica first`);
    const waiting = (await new PgInbox(db.pool, 'store copy').counts()).waiting;
    if (role === 'source' && waiting > 0)
      throw new SetupError(
        `store copy: ${waiting} item(s) wait in the inbox of ${db.label}: start one replica until they are applied, then stop it`,
      );
  } catch (err) {
    await db.close();
    throw err;
  }
  return { store: new PgStore({ pool: db.pool }), label: db.label, close: () => db.close() };
}

/** Every queue of the source with its history, or a SetupError naming the first that cannot be read. */
async function readAll(source: OpenedAt): Promise<{ file: QueueFile; history: VerdictRecord[] }[]> {
  const damaged = (await source.store.unreadableFiles?.()) ?? [];
  if (damaged.length)
    throw new SetupError(`store copy: ${damaged[0]!.file} cannot be read (${damaged[0]!.reason}); nothing was copied`);
  const queues = [];
  for (const name of await source.store.listQueues()) {
    const file = await readQueue(source.store, name).catch((err: Error) => {
      throw new SetupError(`store copy: queue ${name} cannot be read (${err.message}); nothing was copied`);
    });
    if (file) queues.push({ file, history: await source.store.readHistory(name, ALL_VERDICTS) });
  }
  return queues;
}

export async function runStoreCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--help' || verb === '-h') {
    out(storeHelp);
    return 0;
  }
  if (verb !== 'copy') throw new UsageError(`store: unknown subcommand ${JSON.stringify(verb ?? '')}\n\n${storeHelp}`);
  const parsed = parseCommand(
    'store copy',
    rest,
    { options: { from: { type: 'string' }, to: { type: 'string' } }, usage: storeHelp },
    out,
  );
  if (!parsed) return 0;
  const { from, to } = parsed.values;
  if (!from || !to) throw new UsageError(`store copy: give both --from and --to\n\n${storeHelp}`);
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const source = await openAt(from, log, 'source');
  try {
    const target = await openAt(to, log, 'target');
    try {
      const held = await target.store.listQueues();
      if (held.length)
        throw new SetupError(
          `store copy: ${target.label} already holds ${held.length} queue(s); copy into an empty store`,
        );
      const queues = await readAll(source);
      let verdicts = 0;
      for (const { file, history } of queues) {
        await target.store.appendHistory(file.name, history, 0);
        await target.store.writeSnapshot(file);
        verdicts += history.length;
      }
      out(
        `copied ${queues.length} queue(s) and ${verdicts} verdict(s) of history from ${source.label} to ${target.label}`,
      );
      return 0;
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
