// Readable config errors: each names the key, the value given and what is allowed.
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** One line per problem: `ci.max_parallel: got 0; Too small: expected number to be >=1`. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const where = path ? `${path}: ` : '';
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `${where}unknown key${issue.keys.length > 1 ? 's' : ''} ${keys}; check the spelling against the config reference`;
    }
    return `${path || '(top level)'}: got ${show(valueAt(input, issue.path))}; ${issue.message}`;
  });
}

/**
 * Parses YAML, turning a syntax error into a ConfigError that names the source, with the line and
 * column and the lines around them as the YAML parser shows them.
 */
export function parseYamlConfig(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    const [first, ...frame] = (err as Error).message.trimEnd().split('\n');
    const shown = frame.filter((l) => l.trim()).map((l) => `    | ${l}`);
    throw new ConfigError(source, [[`not valid YAML: ${first}`, ...shown].join('\n')]);
  }
}
