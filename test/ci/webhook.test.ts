// The webhook runner: a POST of { key, refs, changes, callback_url } signed like the callback, with
// the run key as its Idempotency-Key.
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDispatcher } from '../../src/ci/webhook/dispatcher.ts';
import type { DispatchContext } from '../../src/engine/effects.ts';
import { verifySignature } from '../../src/http/signature.ts';

afterEach(() => nock.cleanAll());

describe('webhook runner', () => {
  it('signs its POST so the receiver can check it, and fails the dispatch on an error answer', async () => {
    nock.disableNetConnect();
    let seen: { body: string; sig: string } | null = null;
    const keys: string[] = [];
    nock('https://runner.example.org')
      .post('/ost')
      .times(2)
      .reply(function (_uri, body) {
        seen = { body: JSON.stringify(body), sig: String(this.req.headers['x-ost-signature-256']) };
        keys.push(String(this.req.headers['idempotency-key']));
        return [202, {}];
      })
      .post('/ost')
      .reply(500, 'down');
    const d = new WebhookDispatcher({
      url: 'https://runner.example.org/ost',
      secret: 's3cret',
      callbackUrl: 'https://ost/api/ci/callback',
    });
    const run = {
      key: 'q.1',
      refs: { a: 'x' },
      changes: ['c'],
      attempt: 1,
      kind: 'batch' as const,
      line: 'main',
      end: 'c',
    };
    await d.dispatch(run, {} as DispatchContext);
    expect(JSON.parse(seen!.body)).toEqual({
      key: 'q.1',
      refs: { a: 'x' },
      changes: ['c'],
      callback_url: 'https://ost/api/ci/callback',
    });
    expect(verifySignature('s3cret', Buffer.from(seen!.body), seen!.sig)).toBe(true);
    // sent again after a crash that may have cut the first send short: the same Idempotency-Key,
    // so that the CI starts it once
    await d.dispatch(run, {} as DispatchContext);
    expect(keys).toEqual(['q.1', 'q.1']);
    await expect(d.dispatch(run, {} as DispatchContext)).rejects.toThrow(/answered 500/);
    nock.enableNetConnect();
  });
});
