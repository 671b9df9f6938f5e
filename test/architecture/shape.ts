// Measures the shape of src/ for the architecture tests: file lengths, function lengths and
// positional parameters (read with the TypeScript compiler's own parser), and import cycles between
// files (runtime imports only: `import type` leaves no edge).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const SRC = resolve(import.meta.dirname, '..', '..', 'src');

export function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

export interface FunctionShape {
  file: string;
  name: string;
  line: number;
  lines: number;
  params: number;
}

/** Every function, method, arrow function and constructor of a file, with its length and parameter count. */
export function functionsOf(file: string): FunctionShape[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: FunctionShape[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name =
        (node as { name?: ts.Node }).name?.getText(source) ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(source) : '(anonymous)');
      out.push({
        file: relative(SRC, file),
        name,
        line: start + 1,
        lines: end - start + 1,
        params: node.parameters.length,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Runtime imports of a file (not `import type`), resolved to paths. */
export function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const stmt of source.statements) {
    if (!ts.isImportDeclaration(stmt) && !ts.isExportDeclaration(stmt)) continue;
    if (ts.isImportDeclaration(stmt) && stmt.importClause?.isTypeOnly) continue;
    if (ts.isExportDeclaration(stmt) && stmt.isTypeOnly) continue;
    const spec = stmt.moduleSpecifier;
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    // an import whose every name is a type leaves no edge at run time either
    const clause = ts.isImportDeclaration(stmt) ? stmt.importClause : undefined;
    const names = clause?.namedBindings;
    if (
      names &&
      ts.isNamedImports(names) &&
      !clause?.name &&
      names.elements.length > 0 &&
      names.elements.every((e) => e.isTypeOnly)
    )
      continue;
    out.push(resolve(dirname(file), spec.text));
  }
  return out;
}

/** Every cycle of runtime imports between files, each as a path of files relative to src/. */
export function fileCycles(files = sourceFiles()): string[][] {
  const graph = new Map(files.map((f) => [f, runtimeImports(f).filter((t) => files.includes(t))]));
  const found: string[][] = [];
  const visit = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      if (next === path[0]) found.push([...path, next].map((f) => relative(SRC, f)));
      else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
    }
  };
  for (const start of graph.keys()) visit(start, [start]);
  return found;
}
