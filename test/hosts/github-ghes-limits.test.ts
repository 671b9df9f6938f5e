// GitHub Enterprise Server takes at most 10 workflow_dispatch inputs (github.com 25), and ost-gate
// passes 3 of its own: a repo config with more is a config error on GHES (its check run says so), and
// a queue the server config declares is held to the same limit when the server starts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/serve.ts';
import { readQueue } from '../../src/engine/replay.ts';
import { githubBed, privateKey, pushPayload, REPO } from '../helpers/github.ts';
import { offline } from '../helpers/network.ts';
import { documentedAnswer, OLDEST_GHES } from '../helpers/github-spec.ts';
import { configRules } from '../../src/registry.ts';

offline();

const inputs = (n: number) => `{${Array.from({ length: n }, (_, i) => `in${i}: x`).join(', ')}}`;

describe('workflow_dispatch inputs on GitHub Enterprise Server', () => {
  it('refuses a repo config with more inputs than GHES takes, with a failing config check run', async () => {
    const config = `ci: {provider: github-actions, workflow: ost.yml, inputs: ${inputs(8)}}\nbranches: [main]\n`;
    const bed = await githubBed(config, 'https://ghe.example.org/api/v3', { GHE_HOST: 'ghe.example.org' });
    bed.api
      .post(/\/check-runs$/)
      .reply(201, documentedAnswer('POST /repos/{owner}/{repo}/check-runs', 201, { id: 5 }, OLDEST_GHES));
    await bed.receive(
      'push',
      pushPayload('0'.repeat(40), [{ id: '1'.repeat(40), message: 'Merge pull request #1 from dev/a' }]),
    );
    const check = bed.sent.find((s) => s.method === 'POST' && s.path.endsWith('/check-runs'));
    expect(check?.body).toMatchObject({ name: 'ost-gate config', conclusion: 'failure' });
    expect(String((check?.body.output as { summary?: string }).summary)).toMatch(
      /ci\.inputs: got 8 inputs; GitHub Enterprise Server takes at most 10 in a workflow_dispatch and ost-gate passes 3 of its own .*, so at most 7 here/,
    );
    // no good config ever: the branch is not gated, and nothing is queued
    expect(await readQueue(bed.store, `github:${REPO}@main`)).toBeNull();
  });

  it('refuses to start with a declared queue whose inputs GHES cannot take, naming it', async () => {
    const config = configRules.validateServer({
      queues: {
        ovirt: {
          members: ['github:octo/*'],
          repository: 'octo/ost',
          ci: {
            provider: 'github-actions',
            workflow: 'ost.yml',
            inputs: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`in${i}`, 'x'])),
          },
        },
      },
    });
    const env = {
      APP_ID: '1',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 's',
      GHE_HOST: 'ghe.example.org',
      OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-ghes-')),
    };
    await expect(startServer({ env, config, log: silentLogger, port: 0 })).rejects.toThrow(
      /^queues\.ovirt\.ci\.inputs in the server config: got 9 inputs; GitHub Enterprise Server takes at most 10 .* so at most 7 here/,
    );
  });
});
