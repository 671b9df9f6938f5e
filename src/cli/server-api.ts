// The CLI's calls to a running server's HTTP API (operator commands, `status --url`): JSON answers,
// and a server that cannot be reached named with its URL and why, not as "fetch failed".
import { SetupError } from '../config/setup-error.ts';

export interface Answer {
  status: number;
  body: { ok?: boolean; message?: string; error?: string } & Record<string, unknown>;
}

/** Why a request to the server did not get an answer, in words. */
function unreachable(url: string, err: unknown): SetupError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  const why: Record<string, string> = {
    ECONNREFUSED: 'nothing listens there',
    ENOTFOUND: 'the host name does not resolve',
    ETIMEDOUT: 'the connection timed out',
    ECONNRESET: 'the connection was reset',
    EHOSTUNREACH: 'the host is unreachable',
  };
  const reason = why[code] ? `${why[code]} (${code})` : (cause?.message ?? (err as Error).message);
  const origin = new URL(url).origin;
  return new SetupError(
    `cannot reach the ost-gate server at ${origin}: ${reason}; start it, or give its address with --url or OST_URL`,
  );
}

/** Calls the server; its JSON answer (or its text as `error`). */
export async function callServer(url: string, init: RequestInit = {}): Promise<Answer> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw unreachable(url, err);
  }
  const text = await res.text();
  let body: Answer['body'];
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    body = { error: text.slice(0, 300) };
  }
  return { status: res.status, body };
}

/** The server's address: --url, OST_URL, or the local default. */
export function serverBase(url: string | undefined, env: NodeJS.ProcessEnv): string {
  return (url ?? env.OST_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
}
