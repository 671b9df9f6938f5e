// Footers every host reads from a commit message or PR body: `Depends-On:` and git revert's line.

/** The values of every `Depends-On:` line, in order, without duplicates. */
export function dependsOnFooters(message: string): string[] {
  const out: string[] = [];
  for (const line of message.split(/\r?\n/)) {
    const m = /^\s*depends-on\s*:\s*(\S+)\s*$/i.exec(line);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}

/** Shas named by `This reverts commit <sha>` lines (git revert's message). */
export function revertedShas(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/This reverts commit ([0-9a-f]{7,40})/gi)) if (!out.includes(m[1]!)) out.push(m[1]!);
  return out;
}
