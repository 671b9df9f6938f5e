// A GitHub Enterprise Server stand-in on 127.0.0.1 for `ost-gate serve` in its own process: REST under
// /api/v3 and GraphQL at /api/graphql, as GHES serves them. It holds repositories with merged pull
// requests, their comments and the reverts `revertPullRequest` opens; everything else gets the success
// GHES documents. Every REST exchange is checked against the GHES OpenAPI description and every GraphQL
// one against GitHub's published schema; what does not fit is kept in `problems`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { graphqlProblems } from './github-graphql.ts';
import { issueComment, pullRequest } from './github-answers.ts';
import { documentedAnswer, documentedReply, OLDEST_GHES, problems as specProblems } from './github-spec.ts';

type Json = Record<string, unknown>;

/** A merged pull request of the stand-in: its number, merge commit and (for a revert) the one it reverts. */
export interface StandInPull {
  repo: string;
  number: number;
  title: string;
  body: string;
  mergeSha: string | null;
  reverts?: number;
}

export class GheServer {
  readonly pulls: StandInPull[] = [];
  /** `<repo>#<number>` -> comment bodies. */
  readonly comments = new Map<string, string[]>();
  readonly problems: string[] = [];
  /** Every request: `METHOD path`. */
  readonly calls: string[] = [];
  /** The repository config every repository has in `.github/ost-gate.yml`. */
  config = '';
  /** Called when a GraphQL mutation opened a revert, before it is answered. */
  onRevert: ((pull: StandInPull) => void) | null = null;
  private server: Server | null = null;
  host = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.answer(req, res).catch((err: Error) => {
        this.problems.push(`${req.method} ${req.url}: ${err.message}`);
        if (!res.headersSent) res.writeHead(500).end(err.message);
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.host = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }

  /** Merges pull request `number` of `repo` with merge commit `mergeSha`. */
  merge(repo: string, number: number, mergeSha: string): void {
    this.pulls.push({ repo, number, title: `PR ${number}`, body: 'Adds a thing', mergeSha });
  }

  revertsOf(repo: string, number: number): StandInPull[] {
    return this.pulls.filter((p) => p.repo === repo && p.reverts === number);
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Json) : {};
    const url = new URL(req.url ?? '/', 'http://ghe');
    const method = req.method ?? 'GET';
    this.calls.push(`${method} ${url.pathname}`);
    const send = (status: number, answer: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
    };
    if (url.pathname === '/api/graphql') {
      const answer = this.graphql(body);
      this.problems.push(...graphqlProblems(body, answer));
      return send(200, answer);
    }
    if (!url.pathname.startsWith('/api/v3/')) return send(404, { message: `not a GHES path: ${url.pathname}` });
    const path = decodeURIComponent(url.pathname.slice('/api/v3'.length));
    if (/^\/repos\/[^/]+\/[^/]+\/contents\/.github\/ost-gate.yml$/.test(path)) {
      res.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
      return void res.end(this.config);
    }
    const [status, answer] = this.rest(method, path, url.searchParams, body);
    this.problems.push(
      ...specProblems(OLDEST_GHES, {
        method,
        path: path + url.search,
        query: url.searchParams,
        requestBody: text ? body : undefined,
        status,
        responseBody: answer,
        responseIsJson: true,
      }),
    );
    send(status, answer);
  }

  private rest(method: string, path: string, query: URLSearchParams, body: Json): [number, unknown] {
    const m = /^\/repos\/([^/]+\/[^/]+)\/(.*)$/.exec(path);
    const repo = m?.[1] ?? '';
    const rest = m?.[2] ?? '';
    const one = /^pulls\/(\d+)$/.exec(rest);
    if (method === 'GET' && one) {
      const pull = this.pulls.find((p) => p.repo === repo && p.number === Number(one[1]));
      return pull ? [200, this.pullAnswer(pull)] : [404, { message: 'Not Found' }];
    }
    if (method === 'GET' && rest === 'pulls') {
      const newest = this.pulls.filter((p) => p.repo === repo).reverse();
      return [200, newest.slice(0, Number(query.get('per_page') ?? 30)).map((p) => this.pullAnswer(p))];
    }
    const gitCommit = /^git\/commits\/([0-9a-f]{40})$/.exec(rest);
    if (method === 'GET' && gitCommit) {
      const pull = this.pulls.find((p) => p.repo === repo && p.mergeSha === gitCommit[1]);
      const message = pull ? `Merge pull request #${pull.number}\n\n${pull.body}` : 'A commit';
      return [
        200,
        documentedAnswer('GET /repos/{owner}/{repo}/git/commits/{commit_sha}', 200, { sha: gitCommit[1]!, message }),
      ];
    }
    const comments = /^issues\/(\d+)\/comments$/.exec(rest);
    if (comments) {
      const key = `${repo}#${comments[1]}`;
      const list = this.comments.get(key) ?? [];
      if (method === 'POST') {
        list.push(String(body.body));
        this.comments.set(key, list);
        return [201, issueComment({ id: list.length, body: String(body.body) })];
      }
      const page = Number(query.get('page') ?? 1);
      const size = Number(query.get('per_page') ?? 30);
      return [200, list.slice((page - 1) * size, page * size).map((b, i) => issueComment({ id: i + 1, body: b }))];
    }
    if (method === 'GET' && rest.startsWith('commits/') && rest.endsWith('/check-runs'))
      return [200, { total_count: 0, check_runs: [] }];
    return documentedReply(OLDEST_GHES, method, path);
  }

  private pullAnswer(p: StandInPull): Json {
    return pullRequest({
      number: p.number,
      node_id: `PR_${p.repo}_${p.number}`,
      title: p.title,
      body: p.body,
      html_url: `http://ghe/${p.repo}/pull/${p.number}`,
      merge_commit_sha: p.mergeSha,
      ...(p.reverts ? { state: 'open', merged: false, merged_at: null } : { state: 'closed' }),
    });
  }

  /** `revertPullRequest` opens a pull request that reverts the one named; any other document is an error. */
  private graphql(body: Json): Json {
    const query = String(body.query ?? '');
    const variables = (body.variables ?? {}) as Record<string, string>;
    if (!query.includes('revertPullRequest')) return { errors: [{ message: 'stand-in knows revertPullRequest only' }] };
    const target = this.pulls.find((p) => `PR_${p.repo}_${p.number}` === variables.pullRequestId);
    if (!target)
      return { data: { revertPullRequest: null }, errors: [{ type: 'NOT_FOUND', message: 'no such pull request' }] };
    const number = 1000 + this.pulls.length;
    const pull: StandInPull = {
      repo: target.repo,
      number,
      title: variables.title ?? `Revert "${target.title}"`,
      body: variables.body ?? '',
      mergeSha: null,
      reverts: target.number,
    };
    this.pulls.push(pull);
    this.onRevert?.(pull);
    return {
      data: {
        revertPullRequest: {
          revertPullRequest: { id: `PR_${pull.repo}_${number}`, number, url: `http://ghe/${pull.repo}/pull/${number}` },
        },
      },
    };
  }
}
