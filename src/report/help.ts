// The answer to `/ost help` and to an unknown command: the table of commands, who may run each, and what it does.
import { VERBS } from '../commands/parse.ts';
import { code, type Doc, type Inline } from './doc.ts';

/** The commands table, after an optional first paragraph (say, why the help is shown). */
export function helpDoc(intro: Inline[] = []): Doc {
  const rows = Object.entries(VERBS).map(([verb, v]) => [[code(`/ost ${verb}`)], [v.level], [v.help]]);
  return [
    ...(intro.length ? [{ para: intro }] : []),
    { para: ['ost-gate commands:'] },
    { table: { head: ['command', 'who', 'what'], rows } },
  ];
}
