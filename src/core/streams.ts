// Streams and history order: adds merged changes to their stream in the order the branch has them.
// Changes: streams (tip, shas, pending, held early pushes), changes, seq. Emits: skipped verdicts for
// a rewritten history, notices, logs.
import type { StepContext } from './context.ts';
import { log, notice, short } from './emit.ts';
import { MAIN } from './lines.ts';
import { own } from './own.ts';
import { supersedeLine } from './runs.ts';
import type { ChangeInput, ChangeRecord, CoreEvent, StreamRef, StreamState } from './types.ts';
import { verdict } from './verdicts.ts';

/** A merge as the core takes it: the stream, its changes in history order, and the move of its tip. */
export type MergedEvent = Pick<
  Extract<CoreEvent, { type: 'merged' }>,
  'stream' | 'changes' | 'before' | 'after' | 'forced'
>;

/** The longest title, author and URL a change record keeps, and how many dependencies and reverts. */
const TITLE_KEPT = 300;
const NAME_KEPT = 200;
const URL_KEPT = 2000;
const REFS_KEPT = 50;

/** The title, author and URL of a change (or of a member of its stack) cut to the lengths kept. */
function clippedText<T extends Pick<ChangeInput, 'title' | 'author' | 'url' | 'authorEmail'>>(text: T): T {
  const clip = (s: string | null | undefined, n: number) =>
    typeof s === 'string' && s.length > n ? `${s.slice(0, n - 1)}…` : s;
  return {
    ...text,
    ...(text.title !== undefined ? { title: clip(text.title, TITLE_KEPT) ?? '' } : {}),
    ...(text.author !== undefined ? { author: clip(text.author, NAME_KEPT) ?? null } : {}),
    ...(text.authorEmail !== undefined
      ? { authorEmail: text.authorEmail && text.authorEmail.length <= NAME_KEPT ? text.authorEmail : null }
      : {}),
    ...(text.url !== undefined ? { url: text.url && text.url.length <= URL_KEPT ? text.url : null } : {}),
  };
}

/** A change input with its free text cut to sane lengths: one huge commit subject must not bloat the queue. */
function bounded(input: ChangeInput): ChangeInput {
  return {
    ...clippedText(input),
    ...(input.dependsOn ? { dependsOn: input.dependsOn.slice(0, REFS_KEPT) } : {}),
    ...(input.reverts ? { reverts: input.reverts.slice(0, REFS_KEPT) } : {}),
    ...(input.landedWith
      ? {
          landedWith: input.landedWith.slice(0, REFS_KEPT).map(({ id, number, title, url, author }) =>
            clippedText({
              id,
              ...(number !== undefined ? { number } : {}),
              ...(title !== undefined ? { title } : {}),
              ...(url !== undefined ? { url } : {}),
              ...(author !== undefined ? { author } : {}),
            }),
          ),
        }
      : {}),
  };
}

/** Shas per stream the queue remembers, to recognise a change it has seen. */
const SHA_MEMORY = 5000;

/**
 * Adds the changes of a push (or a merge event) to their stream, in history order.
 * Known changes are ignored; a push whose base has not been seen yet is held until the gap
 * fills or `gapTimeoutMs` passes; a force-push or a push from an older base rewrites history:
 * the stream's untested changes are skipped with a notice and the new history is taken.
 */
export function merge(ctx: StepContext, push: MergedEvent): void {
  const { at } = ctx;
  const { changes, forced = false } = push;
  const before = push.before ?? null;
  const after = push.after ?? null;
  const stream = ensureStream(ctx, push.stream);
  const isKnown = (c: ChangeInput) => isKnownId(ctx, c.id) || stream.shas.includes(c.sha);
  const firstFresh = changes.findIndex((c) => !isKnown(c));
  if (forced) {
    rewriteHistory(ctx, stream, `force-push to ${stream.branch} (${short(before)} -> ${short(after)})`);
    append(
      ctx,
      stream,
      changes.filter((c) => !isKnown(c)),
    );
    stream.tip = after ?? changes.at(-1)?.sha ?? stream.tip;
    return;
  }
  if (firstFresh < 0) {
    log(ctx, 'debug', `duplicate push to ${stream.id} ignored (${changes.length} known changes)`);
    return;
  }
  const fresh = changes.slice(firstFresh).filter((c) => !isKnown(c));
  const anchor = firstFresh > 0 ? changes[firstFresh - 1]!.sha : (fresh[0]!.parent ?? before);
  if (anchor === null || anchor === undefined || stream.tip === null || anchor === stream.tip) {
    append(ctx, stream, fresh);
    stream.tip = after ?? fresh.at(-1)!.sha;
    drainEarly(ctx, stream);
  } else if (endsAtStart(stream, fresh, after)) {
    prependHistory(ctx, stream, fresh);
  } else if (stream.shas.includes(anchor)) {
    rewriteHistory(
      ctx,
      stream,
      `${stream.branch} moved back to ${short(anchor)} and on to ${short(after ?? fresh.at(-1)!.sha)}`,
    );
    append(ctx, stream, fresh);
    stream.tip = after ?? fresh.at(-1)!.sha;
  } else {
    stream.early.push({ before: anchor, after, changes: fresh, at, deadline: at + ctx.state.settings.gapTimeoutMs });
    log(ctx, 'info', `push to ${stream.id} on ${short(anchor)} arrived before that commit; held until the gap fills`);
  }
}

/** Whether a push ends where the stream's first change starts: history from before the queue started. */
function endsAtStart(stream: StreamState, fresh: ChangeInput[], after: string | null): boolean {
  const start = stream.base !== undefined ? stream.base : stream.goodRun ? null : stream.good;
  return start !== null && (after ?? fresh.at(-1)!.sha) === start;
}

/**
 * Queues changes that came late from before the stream's first change (two first pushes that
 * crossed on their way) ahead of the stream's changes, in history order: in the line just before the
 * first of them under test, so that a run in flight over a later change also covers them.
 */
function prependHistory(ctx: StepContext, stream: StreamState, fresh: ChangeInput[]): void {
  const mine = Object.values(ctx.state.changes).filter((c) => c.stream === stream.id);
  const lowest = Math.min(...mine.map((c) => c.seq), ctx.state.seq + 1);
  const before = stream.base ?? stream.good;
  const pendingBefore = new Set(stream.pending);
  append(ctx, stream, fresh);
  const added = fresh.map((c) => own(ctx.state.changes, c.id)).filter((c) => c !== undefined);
  added.forEach((c, i) => (c.seq = lowest - 1 + (i + 1) / (added.length + 1)));
  const ids = stream.pending.filter((id) => !pendingBefore.has(id));
  stream.pending = stream.pending.filter((id) => pendingBefore.has(id));
  const first = ctx.state.active.findIndex((id) => own(ctx.state.changes, id)?.stream === stream.id);
  if (first >= 0) ctx.state.active.splice(first, 0, ...ids);
  else stream.pending.unshift(...ids);
  stream.base = fresh[0]!.parent ?? null;
  if (stream.good === before && !stream.goodRun) stream.good = stream.base ?? stream.good;
  notice(
    ctx,
    'info',
    'history-late',
    `${fresh.length} change(s) of ${stream.id} from before its first one arrived late; tested ahead of it`,
  );
  prependHeld(ctx, stream);
}

/**
 * A push held for its base that ends where the stream now starts: older history still, which crossed
 * the ones after it (three or more first pushes out of order). Goes ahead of them, in turn.
 */
function prependHeld(ctx: StepContext, stream: StreamState): void {
  const start = stream.base;
  if (start === null || start === undefined) return;
  const i = stream.early.findIndex((e) => (e.after ?? e.changes.at(-1)?.sha) === start);
  if (i < 0) return;
  const [held] = stream.early.splice(i, 1);
  const fresh = held!.changes.filter((c) => !isKnownId(ctx, c.id) && !stream.shas.includes(c.sha));
  if (fresh.length > 0) prependHistory(ctx, stream, fresh);
}

/** Applies held pushes that now fit on the stream's tip. */
export function drainEarly(ctx: StepContext, stream: StreamState): void {
  for (;;) {
    const i = stream.early.findIndex((e) => e.before === stream.tip);
    if (i < 0) return;
    const [e] = stream.early.splice(i, 1);
    const fresh = e!.changes.filter((c) => !isKnownId(ctx, c.id) && !stream.shas.includes(c.sha));
    append(ctx, stream, fresh);
    stream.tip = e!.after ?? fresh.at(-1)?.sha ?? stream.tip;
  }
}

/** Skips every change of the stream that has no verdict yet, because the branch no longer holds it. */
export function rewriteHistory(ctx: StepContext, stream: StreamState, what: string): void {
  const open = Object.values(ctx.state.changes)
    .filter((c) => c.stream === stream.id && c.state !== 'done')
    .sort((a, b) => a.seq - b.seq);
  notice(
    ctx,
    'warn',
    'history-rewritten',
    `${what}: ${open.length} untested change(s) of ${stream.id} skipped; testing goes on from the new tip`,
  );
  supersedeLine(ctx, MAIN, 'history rewritten');
  supersedeLine(ctx, stream.id, 'history rewritten');
  for (const c of open) verdict(ctx, c.id, 'skipped', { reason: 'history rewritten by a force-push' });
  stream.broken = null;
  stream.early = [];
}

export function append(ctx: StepContext, stream: StreamState, changes: ChangeInput[]): void {
  const { at } = ctx;
  for (const input of changes) {
    if (input.id === '__proto__' || !input.id) {
      log(ctx, 'warn', `change with unusable id ${JSON.stringify(input.id)} ignored`);
      continue;
    }
    const record: ChangeRecord = {
      ...bounded(input),
      host: stream.host,
      project: stream.project,
      branch: stream.branch,
      stream: stream.id,
      seq: ++ctx.state.seq,
      state: 'queued',
      enqueuedAt: at,
    };
    ctx.state.changes[input.id] = record;
    stream.shas.push(input.sha);
    if (stream.good === null && input.parent) stream.good = input.parent;
    if (stream.base === undefined && stream.tip === null) stream.base = input.parent ?? null;
    if (input.skipReason) {
      verdict(ctx, input.id, 'skipped', { reason: input.skipReason });
      continue;
    }
    stream.pending.push(input.id);
  }
  if (stream.shas.length > SHA_MEMORY) stream.shas.splice(0, stream.shas.length - SHA_MEMORY);
}

/** True for a change the queue has, or had and forgot after its verdict. */
export function isKnownId(ctx: StepContext, id: string): boolean {
  return own(ctx.state.changes, id) !== undefined || ctx.state.forgotten.includes(id);
}

export function ensureStream(ctx: StepContext, ref: StreamRef): StreamState {
  const id = streamId(ref);
  let s = ctx.state.streams[id];
  if (!s) {
    s = {
      id,
      host: ref.host,
      project: ref.project,
      branch: ref.branch,
      tip: null,
      good: null,
      pending: [],
      broken: null,
      early: [],
      shas: [],
    };
    ctx.state.streams[id] = s;
  }
  return s;
}

/** Appends held pushes past the gap timeout in arrival order, with a notice: the push before them never came. */
export function expireEarlyPushes(ctx: StepContext): void {
  const { at } = ctx;
  for (const stream of Object.values(ctx.state.streams)) {
    const expired = stream.early.filter((e) => e.deadline <= at);
    if (expired.length === 0) continue;
    stream.early = stream.early.filter((e) => e.deadline > at);
    for (const e of expired) {
      notice(
        ctx,
        'warn',
        'history-gap',
        `${stream.id}: the push before ${short(e.before)} never arrived; ${e.changes.length} change(s) appended in arrival order`,
      );
      const fresh = e.changes.filter((c) => !isKnownId(ctx, c.id) && !stream.shas.includes(c.sha));
      append(ctx, stream, fresh);
      stream.tip = e.after ?? fresh.at(-1)?.sha ?? stream.tip;
    }
    drainEarly(ctx, stream);
  }
}

export function streamId(ref: StreamRef): string {
  return `${ref.host}:${ref.project}@${ref.branch}`;
}
