// Slash commands: finds `/ost <verb> [args]` lines in a comment and says who may run each verb.
import type { CommandVerb } from '../core/index.ts';

/** `try` is no command of a queue's changes: the command loop turns it into a try request (core/tries.ts). */
export type Verb = CommandVerb | 'help' | 'status' | 'try';
export type Level = 'anyone' | 'write' | 'admin';

export const VERBS: Record<Verb, { level: Level; help: string }> = {
  help: { level: 'anyone', help: 'list the commands' },
  status: { level: 'anyone', help: 'where this change is: queued, in which run, or its verdict' },
  retry: { level: 'write', help: 're-run the newest failed or errored run that contains this change' },
  enqueue: { level: 'write', help: 'add this merged change if it was missed' },
  dequeue: { level: 'write', help: 'remove it untested, as skipped' },
  'not-culprit': { level: 'write', help: 'reject a culprit verdict; the range is re-tested and the flake is recorded' },
  priority: { level: 'write', help: 'let this merged change jump the line: the next free runner tests up to it' },
  try: {
    level: 'write',
    help: "on an open change: one run of it over the queue's last passing commits; it enters no queue and blames nobody",
  },
  pause: { level: 'admin', help: "stop dispatching for this change's queue" },
  resume: { level: 'admin', help: "start dispatching for this change's queue again" },
};

export type ParsedCommand =
  { verb: Verb; args: string[]; line: string } | { verb: null; unknown: string; line: string };

/** Every `/ost ...` line of `body`, in order; an unknown verb is returned as such (it gets the help text). */
export function parseCommands(body: string): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    const m = /^\/ost(?:\s+(\S+)(.*))?$/i.exec(line);
    if (!m) continue;
    const word = (m[1] ?? 'help').toLowerCase();
    if (Object.hasOwn(VERBS, word))
      out.push({ verb: word as Verb, args: (m[2] ?? '').trim().split(/\s+/).filter(Boolean), line });
    else out.push({ verb: null, unknown: word, line });
  }
  return out;
}

export function helpText(prefix = ''): string {
  const rows = Object.entries(VERBS).map(([verb, v]) => `| \`/ost ${verb}\` | ${v.level} | ${v.help} |`);
  return `${prefix}ost-gate commands:\n\n| command | who | what |\n|---|---|---|\n${rows.join('\n')}`;
}

/** GitHub permission levels, weakest first. */
const GITHUB_LEVELS = ['none', 'read', 'triage', 'write', 'maintain', 'admin'];

/** Whether a user with GitHub repository permission `has` may run `verb`, with `commands.permission` = `minimum` for write verbs. */
export function githubAllows(verb: Verb, has: string, minimum: string): boolean {
  const level = VERBS[verb].level;
  if (level === 'anyone') return true;
  const needed = level === 'admin' ? 'admin' : minimum;
  return GITHUB_LEVELS.indexOf(has) >= GITHUB_LEVELS.indexOf(needed);
}
