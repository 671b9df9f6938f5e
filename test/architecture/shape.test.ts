// The shape of every file of src/, checked: no import cycle between files, no file much over 300
// lines, no function much over 80 lines, and no function with more than 5 positional parameters
// (a longer list is a named object). The limits leave a little room above the round numbers so
// that a comment added to a file at the limit does not fail the build.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCycles, functionsOf, sourceFiles, SRC } from './shape.ts';

const MAX_FILE_LINES = 320;
const MAX_FUNCTION_LINES = 90;
const MAX_PARAMS = 5;

const files = sourceFiles();
const functions = files.flatMap(functionsOf);

describe('the files of src/', () => {
  it('import each other without a cycle (runtime imports; `import type` leaves no edge)', () => {
    expect(fileCycles(files).map((c) => c.join(' -> '))).toEqual([]);
  });

  it(`are at most about 300 lines (${MAX_FILE_LINES})`, () => {
    const long = files
      .map((f) => `${relative(SRC, f)}: ${readFileSync(f, 'utf8').split('\n').length} lines`)
      .filter((entry) => Number(entry.split(': ')[1]!.split(' ')[0]) > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`have functions of at most about 80 lines (${MAX_FUNCTION_LINES})`, () => {
    const long = functions.filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => `${f.file}:${f.line} ${f.name}`);
    expect(long).toEqual([]);
  });

  it(`have no function with more than ${MAX_PARAMS} positional parameters`, () => {
    const many = functions.filter((f) => f.params > MAX_PARAMS).map((f) => `${f.file}:${f.line} ${f.name}`);
    expect(many).toEqual([]);
  });

  it('are measured: the parser finds the functions of a file', () => {
    // a guard on the measure itself: were it to find nothing, the limits above would pass vacuously
    expect(functions.length).toBeGreaterThan(500);
    expect(functions.some((f) => f.file === 'core/schedule.ts' && f.name === 'schedule')).toBe(true);
  });
});
