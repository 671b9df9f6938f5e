// GitHub Enterprise Server end to end: `ost-gate serve`'s server with APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
// GHE_HOST=127.0.0.1:<port> and GHE_PROTOCOL=http, a local HTTP server standing in for the GitHub API,
// and signed webhooks POSTed to /api/github/webhooks.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/serve.ts';
import { sign } from '../../src/http/signature.ts';
import { checkRunList, pullRequest } from '../helpers/github-answers.ts';
import { documentedReply, OLDEST_GHES } from '../helpers/github-spec.ts';
import { example, INSTALLATION, privateKey, pushPayload, REPO } from '../helpers/github.ts';
import { configRules } from '../../src/registry.ts';

const CONFIG =
  'ci:\n  provider: github-actions\n  workflow: ost.yml\n  max_parallel: 1\nbranches: [main]\nflaky:\n  confirm: 0\n  confidence: 0\n';
const sha = (i: number) => String(i).repeat(40);

interface Call {
  method: string;
  path: string;
  body: Record<string, any>;
}

function standIn(calls: Call[]) {
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = decodeURIComponent(req.url ?? '');
    calls.push({ method: req.method!, path, body: text ? JSON.parse(text) : {} });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (!path.startsWith('/api/v3/')) return json(404, { message: 'not under /api/v3' });
    const p = path.slice('/api/v3'.length);
    if (p.startsWith(`/repos/${REPO}/contents/.github/ost-gate.yml`)) {
      res.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
      return res.end(CONFIG);
    }
    if (p.startsWith(`/repos/${REPO}/pulls/`)) {
      const n = Number(p.split('/').pop());
      return json(
        200,
        pullRequest({ number: n, title: `PR ${n}`, html_url: `http://ghe/${REPO}/pull/${n}`, login: 'dev' }),
      );
    }
    if (req.method === 'POST' && p.endsWith('/dispatches')) {
      // GitHub Enterprise Server does not know return_run_details: 422, as it answers unknown keys
      if ('return_run_details' in (calls.at(-1)!.body ?? {}))
        return json(422, {
          message: 'Invalid request.\n\n"return_run_details" is not a permitted key.',
          documentation_url:
            'https://docs.github.com/enterprise-server@3.17/rest/actions/workflows#create-a-workflow-dispatch-event',
        });
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'GET' && p.includes('/check-runs')) return json(200, checkRunList());
    // everything else (installation token, check runs and comments created) gets the success GHES documents
    const [status, body] = documentedReply(OLDEST_GHES, req.method!, p);
    if (status !== 404) return json(status, body);
    return json(404, { message: `stand-in has no route for ${req.method} ${p}` });
  });
}

describe('GitHub Enterprise Server', () => {
  it('receives signed webhooks and talks only to GHE_HOST: dispatches, results and comments', async () => {
    const calls: Call[] = [];
    const api = standIn(calls);
    await new Promise<void>((ok) => api.listen(0, '127.0.0.1', ok));
    const apiPort = (api.address() as AddressInfo).port;
    const env = {
      APP_ID: '1',
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: 'ghe-secret',
      GHE_HOST: `127.0.0.1:${apiPort}`,
      GHE_PROTOCOL: 'http',
      OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-ghe-')),
    };
    const server = await startServer({
      env,
      config: configRules.validateServer({ tick: 60_000 }),
      log: silentLogger,
      port: 0,
    });
    try {
      const queue = () => server.engine.reads.queue(`github:${REPO}@main`);
      // GitHub's webhook middleware answers 202 "still processing" after 9 s and goes on handling:
      // on a busy machine the handler may still run, so wait (by count) until what it does is done
      const post = async (event: string, payload: unknown, delivery: string, settled: () => Promise<boolean>) => {
        const body = JSON.stringify(payload);
        const res = await fetch(`${server.url}/api/github/webhooks`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-github-event': event,
            'x-github-delivery': delivery,
            'x-hub-signature-256': sign('ghe-secret', body),
          },
        });
        expect([200, 202], await res.clone().text()).toContain(res.status);
        for (let i = 0; i < 1200 && !(await settled()); i++) await new Promise((ok) => setTimeout(ok, 50));
        await server.engine.idle();
      };
      await post(
        'push',
        pushPayload(
          '0'.repeat(40),
          [1, 2, 3].map((n) => ({ id: sha(n), message: `Merge pull request #${n} from dev/f${n}` })),
        ),
        'push-1',
        async () => Object.keys((await queue())?.state.changes ?? {}).length === 3,
      );
      // the dispatches GHES took (the first after its 422 for return_run_details: the real GHES path)
      const dispatches = () => calls.filter((c) => c.path.endsWith('/dispatches') && !('return_run_details' in c.body));
      const finish = async (i: number) => {
        const d = dispatches()[i]!;
        const ref = JSON.parse(d.body.inputs.ost_refs)[REPO] as string;
        const wr = example<Record<string, any>>('workflow_run', (e) => e.action === 'completed');
        wr.workflow_run = {
          ...wr.workflow_run,
          // no run id came back from the dispatch: the run is found by the key in its title
          id: 901 + i,
          display_title: `OST ${d.body.inputs.ost_key}`,
          conclusion: ref === sha(1) ? 'success' : 'failure',
          html_url: `http://ghe/runs/${901 + i}`,
        };
        wr.installation = { id: INSTALLATION };
        const key = d.body.inputs.ost_key as string;
        // done once the run has its result (or was already pruned, having one)
        const done = async () => {
          const run = (await queue())?.state.runs[key];
          return !run || !['dispatched', 'running'].includes(run.state);
        };
        await post('workflow_run', wr, `run-${i}`, done);
      };
      for (let i = 0; i < 5 && dispatches().length > i; i++) await finish(i);
      // one runner: the batch, then halving: PR 2 fails, PR 1 passes
      expect(dispatches().map((d) => JSON.parse(d.body.inputs.ost_refs)[REPO])).toEqual([sha(3), sha(2), sha(1)]);
      // the first dispatch asked for run details, as on github.com, and fell back after the 422;
      // the server remembered it, so the later ones did not ask again
      expect(calls.filter((c) => c.path.endsWith('/dispatches') && 'return_run_details' in c.body)).toHaveLength(1);
      const comments = calls.filter((c) => c.method === 'POST' && /\/issues\/\d+\/comments$/.test(c.path));
      expect(
        comments.map((c) => [Number(/issues\/(\d+)/.exec(c.path)![1]), String(c.body.body).split('\n')[0]]),
      ).toEqual([
        [2, '### ost-gate: culprit'],
        [3, '### ost-gate: blocked'],
      ]);
      expect(calls.every((c) => c.path.startsWith('/api/v3/'))).toBe(true);
    } finally {
      await server.stop();
      api.close();
    }
  }, 150_000); // a hang guard: Octokit's throttling spaces write requests 1 s apart, about 15 s in all
});
