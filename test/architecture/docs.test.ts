// docs/architecture.md kept current: every file it names exists, every function it names is in the
// file named beside it, each folder imports only what its row allows, and every document a comment
// in src/ points to exists.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceFiles, SRC } from './shape.ts';

const ROOT = resolve(SRC, '..');
const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
const files = sourceFiles();

/** The rows of the Markdown table that follows `heading`, as cells. */
function tableAfter(heading: string): string[][] {
  const rest = doc.slice(doc.indexOf(heading));
  const lines = rest.split('\n').filter((l) => l.startsWith('|'));
  const end = rest.split('\n').findIndex((l, i) => i > 0 && l.startsWith('#'));
  const table = rest
    .split('\n')
    .slice(0, end < 0 ? undefined : end)
    .filter((l) => l.startsWith('|'));
  expect(lines.length).toBeGreaterThan(2);
  return table.slice(2).map((row) =>
    row
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim()),
  );
}

/** The top-level folder (or top-level file's name) of a file under src/. */
function area(file: string): string {
  return relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');
}

describe('docs/architecture.md', () => {
  it('names only files and folders that exist', () => {
    const named = [...doc.matchAll(/`(src\/[\w./-]*)`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(40);
    expect(named.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it('says where each behaviour lives: each function named is in a file of its row', () => {
    const missing: string[] = [];
    for (const [behaviour, where] of tableAfter('## Where a behaviour lives')) {
      const paths = [...where!.matchAll(/`(src\/[\w./-]+\.ts)`/g)].map((m) => m[1]!);
      const text = paths.map((p) => readFileSync(join(ROOT, p), 'utf8')).join('\n');
      const names = [...where!.matchAll(/`([a-zA-Z]\w+)`/g)].map((m) => m[1]!);
      for (const name of names)
        if (!new RegExp(`\\b${name}\\b`).test(text)) missing.push(`${behaviour}: ${name} not in ${paths.join(', ')}`);
    }
    expect(missing).toEqual([]);
  });

  it('lists, for each folder, what it may import, and the folders keep to it', () => {
    // `nothing`, a list of folders, `everything`, or `everything but a and b`
    const rules = new Map<string, (to: string) => boolean>();
    for (const [folders, , imports] of tableAfter('## Folders')) {
      const areas = [...folders!.matchAll(/`src\/([\w-]+)(?:\.ts)?`/g)].map((m) => m[1]!);
      const except = /^everything but (.+)$/.exec(imports!)?.[1]?.split(/, | and /);
      const only = new Set(imports!.startsWith('nothing') ? [] : imports!.split(', '));
      const rule = except
        ? (to: string) => !except.includes(to)
        : imports === 'everything'
          ? () => true
          : (to: string) => only.has(to);
      for (const a of areas) rules.set(a, rule);
    }
    const broken: string[] = [];
    for (const file of files) {
      const from = area(file);
      const may = rules.get(from);
      if (!may) {
        broken.push(`${relative(SRC, file)}: its folder is not in the table`);
        continue;
      }
      const specs = [...readFileSync(file, 'utf8').matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
      for (const spec of specs) {
        const to = area(resolve(dirname(file), spec));
        if (to !== from && to !== 'log' && !may(to)) broken.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('comments in src/', () => {
  it('point only to documents that exist', () => {
    const pointers = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/\b(docs\/[\w./-]+\.md)\b/g)].map((m) => ({ file: f, doc: m[1]! })),
    );
    expect(
      pointers.filter((p) => !existsSync(join(ROOT, p.doc))).map((p) => `${relative(SRC, p.file)}: ${p.doc}`),
    ).toEqual([]);
  });
});
