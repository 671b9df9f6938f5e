// Read-only API over runs and history, behind the dashboard token like the rest of the queue API:
// GET /api/runs/:key/log, a command runner's last 200 lines of output, and
// GET /api/queues/:name/history?before=<ms>&limit=N, older verdicts a page at a time, newest first.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VerdictRecord } from '../core/index.ts';
import type { Engine } from '../engine/engine.ts';
import { HttpError, sendJson } from '../http/body.ts';

const PAGE_DEFAULT = 50;
const PAGE_MAX = 500;

export interface RunsApiOptions {
  engine: Engine;
  /** A run's kept log, or null when there is none (only command runners keep one). */
  runLog?: (key: string) => Promise<string | null>;
  historyPage?: (
    queue: string,
    before: number | undefined,
    limit: number,
  ) => Promise<{ verdicts: VerdictRecord[]; more: boolean }>;
}

/** `limit` and `before` from the query, checked: 400 with what is allowed. */
export function pageQuery(url: URL): { before: number | undefined; limit: number } {
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? PAGE_DEFAULT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX)
    throw new HttpError(400, `limit must be a whole number from 1 to ${PAGE_MAX}, got ${JSON.stringify(limitText)}`);
  const beforeText = url.searchParams.get('before');
  const before = beforeText === null ? undefined : Number(beforeText);
  if (before !== undefined && (!Number.isFinite(before) || before < 0))
    throw new HttpError(
      400,
      `before must be a time in ms since 1970 (a verdict's "at"), got ${JSON.stringify(beforeText)}`,
    );
  return { before, limit };
}

export async function sendRunLog(res: ServerResponse, key: string, opts: RunsApiOptions): Promise<void> {
  const text = (await opts.runLog?.(key)) ?? null;
  if (text !== null) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
    return;
  }
  const found = await opts.engine.reads.run({ key });
  if (!found) throw new HttpError(404, `no run ${JSON.stringify(key)} and no log for it`);
  const where = found.run.url ? `; its CI keeps the log: ${found.run.url}` : '';
  throw new HttpError(404, `run ${key} has no log here (only command runners keep one, when the run ends)${where}`);
}

export async function sendHistoryPage(
  req: IncomingMessage,
  res: ServerResponse,
  queue: string,
  opts: RunsApiOptions,
): Promise<void> {
  if (!(await opts.engine.reads.queues()).includes(queue))
    throw new HttpError(404, `no queue named ${JSON.stringify(queue)}; GET /api/queues lists them`);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const { before, limit } = pageQuery(url);
  const page = opts.historyPage ? await opts.historyPage(queue, before, limit) : { verdicts: [], more: false };
  const last = page.verdicts.at(-1);
  const next =
    page.more && last ? `/api/queues/${encodeURIComponent(queue)}/history?before=${last.at}&limit=${limit}` : null;
  sendJson(res, 200, { queue, verdicts: page.verdicts, next });
}
