// OST_RESULTS_DIR: the empty directory a command run may leave JUnit XML files in. They are read
// after the run (regular files ending in .xml, at any depth, never through a symlink), bounded in
// number and size; a file that does not parse is named and the run keeps one bit.
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MAX_JUNIT_BYTES, mergeResults, parseJunit, type TestResults } from '../test-results.ts';

/** The most XML files of one run read. */
export const MAX_RESULT_FILES = 200;

export interface DirResults {
  /** The run's tests, or null when it left no report (or one that could not be read). */
  results: TestResults | null;
  /** Why the reports were not used, for the log. */
  problem?: string;
}

/** Reads the JUnit XML files a run left in `dir`. */
export async function readResultsDir(dir: string): Promise<DirResults> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return { results: null };
  }
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.xml'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) return { results: null };
  if (files.length > MAX_RESULT_FILES)
    return { results: null, problem: `${files.length} XML files in OST_RESULTS_DIR, more than ${MAX_RESULT_FILES}` };
  const all: TestResults[] = [];
  let total = 0;
  for (const file of files) {
    const name = relative(dir, file);
    const info = await lstat(file);
    if (!info.isFile()) continue;
    total += info.size;
    if (total > MAX_JUNIT_BYTES)
      return { results: null, problem: `the XML files in OST_RESULTS_DIR pass ${MAX_JUNIT_BYTES / 1024 / 1024} MB` };
    try {
      all.push(parseJunit(await readFile(file, 'utf8')));
    } catch (err) {
      return { results: null, problem: `${name}: ${(err as Error).message}` };
    }
  }
  return { results: mergeResults(all) };
}
