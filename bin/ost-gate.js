#!/usr/bin/env node
// Entry point for the `ost-gate` command. It runs the JavaScript that `npm run build` (npm's
// `prepare`) writes to dist/. In a checkout whose TypeScript sources are newer than that build, it
// runs the sources through tsx instead, so that an edit never runs stale code.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return null;
  }
};
const newestSource = (url) => {
  let newest = 0;
  for (const entry of readdirSync(url, { withFileTypes: true })) {
    const child = new URL(entry.name + (entry.isDirectory() ? '/' : ''), url);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(child) : (mtime(child) ?? 0));
  }
  return newest;
};

const built = mtime(new URL('dist/cli.js', root));
const sources = mtime(new URL('src/', root)) === null ? null : newestSource(new URL('src/', root));
let cli;
if (built !== null && (sources === null || sources <= built)) {
  cli = await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli.ts');
}
let code;
try {
  code = await cli.main(process.argv.slice(2));
} catch (err) {
  // an error nobody foresaw: one line, and the stack only when asked for
  console.error(`ost-gate: ${err instanceof Error ? err.message : String(err)}`);
  if (process.env.OST_DEBUG) console.error(err);
  else console.error('ost-gate: set OST_DEBUG=1 to see where it happened');
  code = 1;
}
process.exitCode = code;
// a failed start may leave a file system call hanging (a data directory under /proc): do not wait for it
if (code !== 0) process.exit(code);
