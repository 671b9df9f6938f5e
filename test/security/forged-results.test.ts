// D3: a result is accepted only from where its run was sent. A signed workflow_run from another
// repository, naming a run's key in its title, must not finish a run of a Gerrit queue that went to a
// webhook CI, nor a run of another repository's Actions queue.
import { describe, expect, it } from 'vitest';
import type { CoreEvent, DispatchSpec } from '../../src/core/index.ts';
import { workflowRunRefusal } from '../../src/hosts/github/app.ts';
import { offline } from '../helpers/network.ts';
import { example, githubBed, INSTALLATION } from '../helpers/github.ts';
import { readQueue } from '../../src/engine/replay.ts';

offline();

const QUEUE = 'gerrit:gerrit.example.org/engine@master';

function forgedRun(key: string, repo: string, id = 999) {
  const wr = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
  wr.workflow_run = {
    ...wr.workflow_run,
    id,
    display_title: `OST ${key}`,
    conclusion: 'failure',
    path: '.github/workflows/ost.yml',
  };
  wr.repository = { ...wr.repository, full_name: repo };
  wr.installation = { id: INSTALLATION };
  return wr;
}

describe('results only from where the run was sent', () => {
  it('a workflow_run from another repository does not finish a run sent to a webhook CI', async () => {
    const sent: DispatchSpec[] = [];
    const bed = await githubBed(
      'ci: {provider: jenkins, job: x}',
      undefined,
      {},
      {
        dispatchers: { 'webhook:ost': { dispatch: async (run) => void sent.push(run) } },
      },
    );
    const merged: CoreEvent = {
      type: 'merged',
      at: 1,
      stream: { host: 'gerrit', project: 'engine', branch: 'master' },
      changes: [{ id: 'gerrit:gerrit.example.org/engine~1', sha: 'a'.repeat(40), number: 1 }],
    };
    await bed.engine.submit(QUEUE, merged, { setup: { ci: { provider: 'webhook:ost' } } });
    await bed.engine.idle();
    const key = sent[0]!.key;
    expect((await readQueue(bed.store, QUEUE))!.state.runs[key]).toMatchObject({ target: 'webhook:ost' });

    await bed.receive('workflow_run', forgedRun(key, 'evil/x'));

    const file = (await readQueue(bed.store, QUEUE))!;
    expect(file.state.runs[key]!.state).toBe('dispatched');
    expect(file.state.changes['gerrit:gerrit.example.org/engine~1']!.state).toBe('queued');
  });

  const run = { key: 'q.1-ab', target: 'github-actions:octo/app:ost.yml', ciRunId: 42 } as never;
  it.each([
    ['another repository', { repo: 'evil/x', id: 42 }, /sent to octo\/app/],
    [
      'another workflow of the same repository',
      { repo: 'octo/app', id: 42, path: '.github/workflows/x.yml' },
      /workflow ost\.yml/,
    ],
    [
      'another run of the same workflow',
      { repo: 'octo/app', id: 43, path: '.github/workflows/ost.yml' },
      /is workflow run 42/,
    ],
  ])('refuses a workflow run from %s', (_what, from, why) => {
    expect(workflowRunRefusal(run, null, from)).toMatch(why);
  });

  it('accepts the run it dispatched, in any letter case of the repository', () => {
    expect(workflowRunRefusal(run, null, { repo: 'Octo/App', id: 42, path: '.github/workflows/ost.yml' })).toBeNull();
  });
});
