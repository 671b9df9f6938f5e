// The README's config reference and the schema must agree: the example validates, and every key
// the schema knows is documented in it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configRules } from '../../src/registry.ts';

async function referenceBlock(): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Repository config'));
  return /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
}

/** Dotted key paths of a zod object schema. */
function schemaKeys(schema: unknown, prefix = ''): string[] {
  let s = schema as { def?: { type?: string; innerType?: unknown; in?: unknown; shape?: Record<string, unknown> } };
  while (
    s?.def &&
    (s.def.type === 'default' || s.def.type === 'prefault' || s.def.type === 'optional' || s.def.type === 'pipe')
  )
    s = (s.def.innerType ?? s.def.in) as typeof s;
  const shape = s?.def?.shape;
  if (!shape) return [];
  return Object.entries(shape).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    const nested = schemaKeys(v, path);
    return nested.length && !['inputs'].includes(k) ? nested : [path];
  });
}

function yamlKeys(value: unknown, prefix = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    const nested = k === 'inputs' ? [] : yamlKeys(v, path);
    return nested.length ? nested : [path];
  });
}

describe('README config reference', () => {
  it('is a valid config', async () => {
    const block = parse(await referenceBlock());
    expect(() => configRules.validateRepo(block, 'README')).not.toThrow();
  });

  it('documents every key of the schema, and no key the schema does not have', async () => {
    const documented = yamlKeys(parse(await referenceBlock())).sort();
    const known = schemaKeys(configRules.repoSchema).sort();
    expect(known.filter((k) => !documented.includes(k))).toEqual([]);
    expect(documented.filter((k) => !known.includes(k))).toEqual([]);
  });

  it('has a valid server config example', async () => {
    const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Server config'));
    const block = parse(/```yaml\n([\s\S]*?)```/.exec(section)![1]!);
    expect(() => configRules.validateServer(block, 'README')).not.toThrow();
    expect(Object.keys(block as object).sort()).toEqual(Object.keys(configRules.serverSchema.shape).sort());
  });
});
