// POST /api/ci/callback: CI results as signed JSON `{ key, status, url?, message?, tests? }`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Engine } from '../engine/engine.ts';
import type { Logger } from '../log.ts';
import { dispatchTarget, reportsByCallback } from '../ci/index.ts';
import { httpUrl } from '../http/url.ts';
import { HttpError, readBody, sendJson, unauthenticatedBodies } from '../http/body.ts';
import { verifySignature } from '../http/signature.ts';
import { MAX_CALLBACK_JUNIT, TestResultsError, callbackTests, callbackTestsSchema } from '../ci/test-results.ts';

/** The largest callback body: room for a JUnit XML document of `MAX_CALLBACK_JUNIT`, escaped in JSON. */
export const CALLBACK_LIMIT = 2 * MAX_CALLBACK_JUNIT + 64 * 1024;
export const SIGNATURE_HEADER = 'x-ost-signature-256';

const callbackSchema = z
  .object({
    key: z.string().min(1).max(300),
    status: z.enum(['success', 'failure', 'error']),
    url: z
      .string()
      .max(2000)
      .refine((u) => httpUrl(u) !== null, 'must be an http or https URL')
      .optional(),
    /** For `error`: what went wrong, shown in the queue's notices and its pause reason. */
    message: z.string().max(500).optional(),
    /** The run's tests: `{ failed: [ids], passed? }` or `{ junit: "<xml>" }` (ci/test-results.ts). */
    tests: callbackTestsSchema.optional(),
  })
  .strict();

export interface CallbackOptions {
  engine: Engine;
  /** OST_CALLBACK_SECRET; without it the callback is off. */
  secret: string | undefined;
  log: Logger;
  now: () => number;
}

export async function handleCallback(req: IncomingMessage, res: ServerResponse, opts: CallbackOptions): Promise<void> {
  const { engine, secret, log, now } = opts;
  if (!secret) throw new HttpError(503, 'the CI callback is disabled: set OST_CALLBACK_SECRET on the server');
  const body = await readBody(req, CALLBACK_LIMIT, unauthenticatedBodies);
  if (!verifySignature(secret, body, req.headers[SIGNATURE_HEADER] as string | undefined)) {
    log.warn({ remote: req.socket.remoteAddress }, 'CI callback with a missing or bad signature rejected');
    throw new HttpError(
      401,
      `missing or bad ${SIGNATURE_HEADER}: expected sha256=<hex HMAC-SHA256 of the raw body with OST_CALLBACK_SECRET>`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON; expected { "key", "status": "success" | "failure" | "error", "url"? }');
  }
  const parsed = callbackSchema.safeParse(json);
  if (!parsed.success) {
    throw new HttpError(
      400,
      `invalid callback: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
    );
  }
  const { key, status, url, message } = parsed.data;
  let tests;
  try {
    tests = parsed.data.tests ? callbackTests(parsed.data.tests) : undefined;
  } catch (err) {
    if (err instanceof TestResultsError) throw new HttpError(400, `invalid callback: tests: ${err.message}`);
    throw err;
  }
  const found = await engine.reads.run({ key });
  if (!found) {
    log.info({ key }, 'CI callback for an unknown run key ignored');
    sendJson(res, 202, { accepted: false, reason: `no queue has run ${key}` });
    return;
  }
  const { queue, run, file } = found;
  // only the CIs that report by callback may: a run sent to GitHub Actions reports by workflow_run
  const target = run.target ?? dispatchTarget(file.ci);
  if (!reportsByCallback(target)) {
    log.warn({ key, target }, 'CI callback for a run that was not sent to a callback CI refused');
    throw new HttpError(409, `run ${key} was sent to ${target}, which does not report by this callback`);
  }
  await engine.submit(
    queue,
    {
      type: 'run-finished',
      at: now(),
      key,
      status,
      url: url ?? null,
      ...(tests && status !== 'error' ? { tests } : {}),
      ...(status === 'error' ? { reason: message ? `the CI said: ${message}` : 'the CI reported an error' } : {}),
    },
    { delivery: `callback:${key}:${status}` },
  );
  sendJson(res, 200, { accepted: true, queue, key });
}
