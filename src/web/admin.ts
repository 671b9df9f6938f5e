// POST /api/queues/:queue/commands: the operator's commands without a code host (a paused queue of a
// watched git repository has nowhere else to be resumed). JSON `{ "verb", "change"? }` with
// `Authorization: Bearer <OST_ADMIN_TOKEN>`; the same verbs and effects as the slash commands, and
// the core's reply as the answer.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { COMMAND_VERBS, QUEUE_VERBS, type CommandVerb, type CoreEvent } from '../core/index.ts';
import type { Engine } from '../engine/engine.ts';
import { bearerToken, HttpError, parseJsonBody, readBody, sendJson } from '../http/body.ts';
import type { Logger } from '../log.ts';
import type { AdminSessions } from './sessions.ts';
import { backPath } from './sign-in.ts';
import type { TokenGuard } from './token-guard.ts';

const ADMIN_LIMIT = 16 * 1024;
/** Who the core names as having run a command that came through this route. */
export const ADMIN_USER = 'admin API';

const commandSchema = z
  .object({
    verb: z.enum(COMMAND_VERBS),
    change: z.string().min(1).max(500).optional(),
  })
  .strict();

export interface AdminOptions {
  engine: Engine;
  /** OST_ADMIN_TOKEN; without it the route is off. */
  token: string | undefined;
  log: Logger;
  now: () => number;
  /** Counts wrong tokens per address (429 after too many). */
  guard: TokenGuard;
  /** The dashboard operators' sessions, for the buttons' forms. */
  sessions: AdminSessions;
}

/** Runs one operator command on a queue through the core, as a slash command would; its reply. */
export async function runAdminCommand(
  queue: string,
  command: { verb: CommandVerb; change?: string | undefined },
  opts: AdminOptions,
): Promise<{ ok: boolean; message: string }> {
  const { verb, change } = command;
  if (!(await opts.engine.reads.queues()).includes(queue))
    throw new HttpError(404, `no queue named ${JSON.stringify(queue)}`);
  if (!QUEUE_VERBS.includes(verb)) {
    if (!change) throw new HttpError(400, `${verb} needs a change: { "verb": "${verb}", "change": "<change id>" }`);
    const file = await opts.engine.reads.queue(queue);
    const known = !!file && (Object.hasOwn(file.state.changes, change) || file.state.forgotten.includes(change));
    if (!known) throw new HttpError(404, `no change ${JSON.stringify(change)} in queue ${queue}`);
  }
  let reply: { ok: boolean; message: string } | null = null;
  const event: CoreEvent = {
    type: 'command',
    at: opts.now(),
    verb,
    change: change ?? '',
    user: ADMIN_USER,
    replyTo: null,
  };
  // a replica that does not write stores the command for the one that does: no reply to read
  const forwarded = opts.engine.forwarding(queue);
  await opts.engine.submit(queue, event, {
    onEffects: (effects) => {
      const r = effects.find((e) => e.type === 'reply');
      if (r && r.type === 'reply') reply = { ok: r.ok, message: r.message };
    },
  });
  const answer =
    reply ??
    (forwarded
      ? { ok: true, message: `${verb} accepted: the replica that writes this queue applies it in a moment` }
      : { ok: false, message: 'the command changed nothing' });
  opts.log.info(
    { queue, verb, change, ok: answer.ok },
    `${verb}${change ? ` ${change}` : ''} on ${queue} by ${ADMIN_USER}: ${answer.message}`,
  );
  return answer;
}

/**
 * Throws 403 when operator commands are off, 429 after too many wrong tokens from the address, and
 * 401 unless `given` is the admin token (constant time).
 */
export async function checkAdminToken(
  req: IncomingMessage,
  opts: AdminOptions,
  given: string | undefined | null,
  how: string,
): Promise<void> {
  if (!opts.token)
    throw new HttpError(
      403,
      'operator commands are off: set OST_ADMIN_TOKEN on the server and send it as a Bearer token',
    );
  if (!(await opts.guard.verify(req, 'admin', { expected: opts.token, given })))
    throw new HttpError(401, `missing or bad token: ${how}`);
}

export async function handleAdminCommand(
  req: IncomingMessage,
  res: ServerResponse,
  queue: string,
  opts: AdminOptions,
): Promise<void> {
  await checkAdminToken(req, opts, bearerToken(req), 'send Authorization: Bearer <OST_ADMIN_TOKEN>');
  const parsed = commandSchema.safeParse(parseJsonBody(await readBody(req, ADMIN_LIMIT), '{ "verb", "change"? }'));
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new HttpError(400, `not a command: ${why}; verbs: ${COMMAND_VERBS.join(', ')}`);
  }
  sendJson(res, 200, await runAdminCommand(queue, parsed.data, opts));
}

/**
 * POST /queues/:queue/commands from the dashboard's buttons: a form of a signed-in operator's session,
 * carrying its CSRF token, answered with a redirect back to the page the button was on. The reply is
 * kept in the session and shown once there; the address carries nothing.
 */
export async function handleAdminForm(
  req: IncomingMessage,
  res: ServerResponse,
  queue: string,
  opts: AdminOptions,
): Promise<void> {
  if (!opts.token) throw new HttpError(403, 'operator buttons are off: set OST_ADMIN_TOKEN on the server');
  const session = opts.sessions.get(req);
  if (!session) throw new HttpError(401, 'sign in as the operator first, at /admin/sign-in');
  const form = new URLSearchParams((await readBody(req, ADMIN_LIMIT)).toString('utf8'));
  if (!opts.sessions.csrfMatches(session, form.get('csrf')))
    throw new HttpError(403, 'this form is not from your session; reload the page and press the button again');
  const page = backPath(form.get('back'), `/queues/${encodeURIComponent(queue)}`);
  const verb = COMMAND_VERBS.find((v) => v === form.get('verb'));
  if (!verb)
    throw new HttpError(400, `not a command: ${JSON.stringify(form.get('verb'))}; verbs: ${COMMAND_VERBS.join(', ')}`);
  const answer = await runAdminCommand(queue, { verb, change: form.get('change') ?? undefined }, opts);
  session.flash = answer.message;
  res.writeHead(303, { location: page, 'cache-control': 'no-store' });
  res.end();
}
