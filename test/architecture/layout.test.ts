// The shape of the source tree, checked: no import cycle between the top-level folders of src/,
// a core that imports nothing from outside it, and no over-long lines (sizes: shape.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** `core`, `hosts`, ... for a file under a folder of src/; the file's own name for a file at the top. */
function area(file: string): string {
  return relative(SRC, file).split('/')[0]!.replace(/\.ts$/, '');
}

/** Relative imports (static, dynamic and `import()` types) of a file, resolved to paths. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s));
}

const files = sourceFiles(SRC);

/** area -> areas it imports from. */
function areaGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = area(file);
    for (const target of imports(file)) {
      const to = area(target);
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Every cycle between areas, each as a path that starts and ends at the same area. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const visit = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      if (next === path[0]) found.push([...path, next]);
      else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
    }
  };
  for (const start of graph.keys()) visit(start, [start]);
  return found;
}

describe('the source tree', () => {
  it('has no import cycle between the top-level folders of src/', () => {
    expect(cycles(areaGraph()).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('keeps the core pure: src/core imports nothing from outside src/core', () => {
    const outside = files
      .filter((f) => area(f) === 'core')
      .flatMap((f) =>
        imports(f)
          .filter((t) => area(t) !== 'core')
          .map((t) => `${relative(SRC, f)} -> ${relative(SRC, t)}`),
      );
    expect(outside).toEqual([]);
  });

  it('has no line in src/ longer than 160 characters', () => {
    const long = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (line.length > 160 ? [`${relative(SRC, f)}:${i + 1} (${line.length})`] : [])),
    );
    expect(long).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
