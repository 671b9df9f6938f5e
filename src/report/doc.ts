// A tiny document model for what ost-gate says to people: a verdict, a status answer. The wording is
// composed once as blocks of inline parts; renderers turn it into Markdown (GitHub) or plain text
// (Gerrit, git notes, logs), so every host says the same thing.

/** A change as people see it: its label (`#12`, `change 12`, a short sha), title and link. */
export interface ChangeRef {
  id: string;
  label: string;
  title: string;
  url: string | null;
  /** False when the queue no longer knows the change: only its id can be shown. */
  known: boolean;
}

/** A system-test run: its key and its CI link. */
export interface RunRef {
  key: string;
  url: string | null;
}

export type Inline =
  | string
  | { code: string }
  | { strong: string }
  | { link: string; href: string }
  | { change: ChangeRef }
  | { run: RunRef };

export type Block =
  | { heading: string }
  | { para: Inline[] }
  | { table: { head: string[]; rows: Inline[][][] } }
  /** A machine-readable marker that finds the post again; hidden where the markup allows. */
  | { marker: string };

export type Doc = Block[];

export const code = (text: string): Inline => ({ code: text });
export const strong = (text: string): Inline => ({ strong: text });
export const link = (text: string, href: string): Inline => ({ link: text, href });

/** `items` joined by `sep`, for lists of changes in a sentence. */
export function joined(items: Inline[], sep = ', '): Inline[] {
  return items.flatMap((item, i) => (i === 0 ? [item] : [sep, item]));
}
