// How a journal record changes a queue's file, shared by the engine's live steps and by loading
// (a snapshot plus its journal, replayed through the core's deterministic step). Also a read-only
// loader for readers beside a running server (`ost-gate status`, tests).
import { advance, defaultSettings, emptyQueue, type Effect, type Strategy } from '../core/index.ts';
import { recordHealth, withOpened, type HealthBefore } from './health.ts';
import { safeSlug } from '../store/slug.ts';
import type { JournalRecord, QueueFile, QueueNotice, Store, StoredQueue } from '../store/types.ts';

const NOTICES_KEPT = 50;
const SENT_KEPT = 100;
const DELIVERIES_KEPT = 5000;

type StepRecord = Extract<JournalRecord, { type: 'step' }>;

/** A new queue file with an empty state. */
export function freshQueueFile(queue: string, settings: Parameters<typeof emptyQueue>[1] = {}): QueueFile {
  const state = emptyQueue(queue, settings, safeSlug(queue));
  return { schema: 1, name: queue, state, outbox: [], notices: [], deliveries: [], historyMoved: 0, ci: null };
}

/** Notes a mail or chat message performed (sent, or refused for good) in the file's bounded list. */
function keepSent(file: QueueFile, effect: Effect, at: number, refused: string | undefined): void {
  if (effect.type !== 'mail' && effect.type !== 'chat') return;
  const a = effect.about;
  const what =
    a.kind === 'verdict' ? a.verdict.verdict : a.kind === 'blocked' ? `blocked (${a.changes.length} changes)` : a.code;
  const changes =
    a.kind === 'verdict' ? [a.change] : a.kind === 'blocked' ? [...a.changes, ...(a.culprit ? [a.culprit] : [])] : [];
  const to = effect.type === 'mail' ? effect.to.join(', ') : effect.channel;
  (file.sent ??= []).push({ at, via: effect.type, to, what, changes, ...(refused ? { refused } : {}) });
  if (file.sent.length > SENT_KEPT) file.sent.splice(0, file.sent.length - SENT_KEPT);
}

export function pushNotice(file: QueueFile, notice: QueueNotice): void {
  file.notices.push(notice);
  if (file.notices.length > NOTICES_KEPT) file.notices.splice(0, file.notices.length - NOTICES_KEPT);
}

/**
 * The bookkeeping of a step whose state change is done: health figures, notices, the delivery id, the
 * outbox entries and the record's number. `before` holds the state's stats and change counter before the step.
 */
export function recordStep(file: QueueFile, record: StepRecord, effects: Effect[], before: HealthBefore): void {
  file.health = recordHealth(file.health ?? [], before, file.state, effects, record.at);
  const reverts = (record.outbox ?? []).filter((o) => o.effect.type === 'revert' && !o.effect.refused).length;
  if (reverts) file.reverts = withOpened(file.reverts ?? [], record.at, reverts);
  for (const effect of effects)
    if (effect.type === 'notice')
      pushNotice(file, {
        at: record.event.at,
        level: effect.level,
        code: effect.code,
        message: effect.message,
        ...(effect.change ? { change: effect.change } : {}),
      });
  if (record.delivery) {
    file.deliveries.push(record.delivery);
    if (file.deliveries.length > DELIVERIES_KEPT) file.deliveries.splice(0, file.deliveries.length - DELIVERIES_KEPT);
  }
  file.outbox.push(...record.outbox);
  file.journalSeq = record.n;
}

/** Applies one journal record to `file`, in place, as the engine did when it wrote it. */
export function applyRecord(file: QueueFile, record: JournalRecord, strategies: Record<string, Strategy>): void {
  switch (record.type) {
    case 'step': {
      if (record.setup) Object.assign(file, record.setup);
      const before = { stats: { ...file.state.stats }, seq: file.state.seq };
      const { effects } = advance(file.state, record.event, { strategies });
      recordStep(file, record, effects, before);
      return;
    }
    case 'done': {
      const done = new Set(record.ids);
      for (const e of file.outbox) if (done.has(e.id)) keepSent(file, e.effect, record.at ?? 0, record.refused?.[e.id]);
      file.outbox = file.outbox.filter((e) => !done.has(e.id));
      break;
    }
    case 'notice':
      pushNotice(file, record.notice);
      break;
  }
  file.journalSeq = record.n;
}

/** The queue file a snapshot and its journal stand for. */
export function replay(stored: StoredQueue, queue: string, strategies: Record<string, Strategy> = {}): QueueFile {
  const file = stored.snapshot ?? freshQueueFile(queue);
  // a snapshot written before a setting existed has none: it takes the setting's default
  file.state.settings = { ...defaultSettings, ...file.state.settings };
  for (const record of stored.journal) applyRecord(file, record, strategies);
  return file;
}

/** Reads a queue as it stands, without writing (the store may be read-only); null when there is none. */
export async function readQueue(store: Store, queue: string): Promise<QueueFile | null> {
  const stored = await store.loadQueue(queue);
  return stored ? replay(stored, queue) : null;
}
