// The command loop every host runs for a comment: find the `/ost` lines, answer help and unknown verbs,
// check permission through the host's port, answer `status`, and submit the rest to the change's queue.
// Hosts differ only in their port: how to reply, who may do what, and how to read a missed change.
import { parseCommands, VERBS, type Verb } from '../../commands/parse.ts';
import type { ChangeInput, CoreEvent, StreamRef, TryTarget } from '../../core/index.ts';
import type { RepoConfig } from '../../config/repo.ts';
import type { Placement } from './repo-config.ts';
import type { Engine } from '../../engine/engine.ts';
import { code, type Doc, type Inline } from '../../report/doc.ts';
import { helpDoc } from '../../report/help.ts';
import { statusDoc, triesOf } from '../../report/status.ts';

/** A merged change as the host knows it, for `/ost enqueue` of a change no queue has. */
export interface MissedChange {
  queue: string;
  config: RepoConfig;
  stream: StreamRef;
  change: ChangeInput;
}

/** What the code host says of a change a comment is on, for `/ost enqueue`. */
export type HostChange =
  { merged: true; stream: StreamRef; change: ChangeInput } | { merged: false; label: string; state: string };

/** Where a change is: its repository (for messages) and its config file's name. */
export interface ChangeHome {
  repository: string;
  configFile: string;
  /** How people name the change: `#12`, `change 12`. */
  label: string;
}

/**
 * `/ost enqueue` of a change no queue has: the change as the host reads it, placed where a merge of
 * its branch would go; a refusal when it is not merged or its branch is not gated.
 */
export async function missedChange(
  lookup: () => Promise<HostChange>,
  placement: Placement | null,
  home: ChangeHome,
): Promise<MissedChange | { refusal: string }> {
  const found = await lookup();
  if (!found.merged) return { refusal: `${found.label} is ${found.state}; ost-gate tests merged changes only.` };
  const branch = found.stream.branch;
  if (!placement || !placement.config.branches.includes(branch))
    return {
      refusal:
        `${home.repository} does not gate ${branch} (no ${home.configFile} there, or ${branch} is not in its ` +
        `branches), so ${home.label} is not enqueued.`,
    };
  return { queue: placement.queue, config: placement.config, stream: found.stream, change: found.change };
}

/** What a host does for the command loop. */
export interface CommandPort {
  /** Renders a message in the host's markup (Markdown on GitHub, plain text on Gerrit). */
  render(doc: Doc): string;
  /** Posts a reply on the change the comment was made on. */
  reply(text: string): Promise<unknown>;
  /** How the reply addresses the commenter (`@alice` on GitHub). */
  mention(user: string): string;
  /** Whether `user` may run `verb`, under the config in force; a refusal says what is needed. */
  permission(verb: Verb, user: string, config: RepoConfig | null): Promise<{ ok: true } | { ok: false; needs: string }>;
  /** The repo config in force on the change's branch and the queue it places changes in, when no queue knows the change yet. */
  config(): Promise<Placement | null>;
  /** The change as the host knows it, when it is merged on a gated branch; otherwise why not. */
  missedChange(placement: Placement | null): Promise<MissedChange | { refusal: string }>;
  /** For `/ost try`: the open change, what to run of it (a merge commit, a patch set); otherwise why not. */
  openChange(user: string): Promise<OpenChange | { refusal: string }>;
}

/** An open change as `/ost try` runs it: where it would merge (host, project, branch), and what to test. */
export type OpenChange = Omit<TryTarget, 'requestedAt'>;

export interface CommentInput {
  body: string;
  user: string;
  /** The change the comment was made on. */
  change: string;
  /** Opaque handle the core's reply goes back to. */
  replyTo: unknown;
  /** Delivery id of the comment, so that a redelivery runs no command twice. */
  delivery?: string;
}

export interface CommandLoopDeps {
  engine: Engine;
  now: () => number;
  publicUrl?: string | undefined;
}

/** Runs every command in a comment, in order; each gets a reply. Returns how many commands there were. */
export async function runCommands(deps: CommandLoopDeps, port: CommandPort, input: CommentInput): Promise<number> {
  const commands = parseCommands(input.body);
  const { user } = input;
  const say = (parts: Inline[]) => port.reply(port.render([{ para: [port.mention(user), ...parts] }]));
  for (const [i, cmd] of commands.entries()) {
    if (cmd.verb === null) {
      await port.reply(port.render(helpDoc([port.mention(user), code(`/ost ${cmd.unknown}`), ' is not a command.'])));
      continue;
    }
    if (cmd.verb === 'help') {
      await port.reply(port.render(helpDoc()));
      continue;
    }
    const found = await deps.engine.reads.change(input.change);
    // a change that landed in one commit with others is known by the id of the last of them
    const id = found?.id ?? input.change;
    // a change no queue has can only be enqueued or tried: only then is the branch's config worth reading
    const placement = !found && (cmd.verb === 'enqueue' || cmd.verb === 'try') ? await port.config() : null;
    const config = found ? (found.file.repoConfig ?? null) : (placement?.config ?? null);
    if (VERBS[cmd.verb].level !== 'anyone') {
      const allowed = await port.permission(cmd.verb, user, config);
      if (!allowed.ok) {
        await say([code(`/ost ${cmd.verb}`), ` needs ${allowed.needs}. Nothing was changed.`]);
        continue;
      }
    }
    if (cmd.verb === 'status') {
      // a change no queue has may be an open one that was tried
      const tries = found ? [] : triesOf(await deps.engine.reads.all(), id);
      await port.reply(port.render(statusDoc(found?.queue ?? null, found?.file ?? null, id, { ...deps, tries })));
      continue;
    }
    if (cmd.verb === 'try') {
      const refusal = await submitTry(deps, port, { found: !!found, placement, user, input, index: i });
      if (refusal) await say([refusal]);
      continue;
    }
    let queue = found?.queue;
    let missed: MissedChange | undefined;
    if (!queue && cmd.verb === 'enqueue') {
      const known = await port.missedChange(placement);
      if ('refusal' in known) {
        await say([known.refusal]);
        continue;
      }
      missed = known;
      queue = known.queue;
    }
    if (!queue) {
      await say([code(id), ` is not in any ost-gate queue, so there is nothing to ${cmd.verb}.`]);
      continue;
    }
    const event: CoreEvent = {
      type: 'command',
      at: deps.now(),
      verb: cmd.verb,
      change: id,
      user,
      replyTo: input.replyTo,
      ...(missed ? { input: { stream: missed.stream, change: missed.change } } : {}),
    };
    await deps.engine.submit(queue, event, input.delivery ? { delivery: `${input.delivery}:${i}` } : {});
  }
  return commands.length;
}

/**
 * `/ost try` on a change: an open change of a gated branch is sent to its queue as a try request (the
 * queue replies); a merged change, an ungated branch or a change that cannot be tried gets a refusal.
 */
async function submitTry(
  deps: CommandLoopDeps,
  port: CommandPort,
  ask: { found: boolean; placement: Placement | null; user: string; input: CommentInput; index: number },
): Promise<string | null> {
  const { found, placement, user, input, index } = ask;
  if (found) return `${input.change} is merged and tested in its queue; /ost try is for open changes.`;
  const open = await port.openChange(user);
  if ('refusal' in open) return open.refusal;
  if (!placement || !placement.config.branches.includes(open.branch))
    return `${open.project} does not gate ${open.branch}, so there is no queue to try ${input.change} in.`;
  await deps.engine.submit(
    placement.queue,
    { type: 'try', at: deps.now(), target: open, replyTo: input.replyTo },
    input.delivery ? { delivery: `${input.delivery}:${index}` } : {},
  );
  return null;
}
