// The example files users copy: the GitHub workflow passes its inputs through the environment, never
// straight into a script (GitHub's script-injection pattern).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

describe('examples/github/ost.yml', () => {
  it('puts no ${{ }} expression into a run: script', async () => {
    const workflow = parse(
      await readFile(join(import.meta.dirname, '..', '..', 'examples', 'github', 'ost.yml'), 'utf8'),
    ) as {
      jobs: Record<string, { steps: { run?: string }[] }>;
    };
    const scripts = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run] : [])));
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((s) => s.includes('${{'))).toEqual([]);
  });
});
