// The `webhook:<name>` dispatcher: a signed POST of { key, refs, changes, callback_url } to a URL from the
// server config; the result comes back by the signed CI callback. Delivery is at least once: a run may
// be sent again after a crash (the CI cannot be asked whether it has it), always with the same
// `Idempotency-Key: <run key>`, which a webhook CI must treat as "already started" when it has seen it.
import type { DispatchSpec } from '../../core/index.ts';
import type { DispatchContext, Dispatcher } from '../../engine/effects.ts';
import { fetchWithTimeout } from '../../http/fetch.ts';
import { sign } from '../../http/signature.ts';

export interface WebhookRunner {
  url: string;
  secret: string;
  callbackUrl?: string | undefined;
}

export class WebhookDispatcher implements Dispatcher {
  constructor(private readonly runner: WebhookRunner) {}

  async dispatch(run: DispatchSpec, _ctx: DispatchContext): Promise<void> {
    const body = JSON.stringify({
      key: run.key,
      refs: run.refs,
      changes: run.changes,
      callback_url: this.runner.callbackUrl ?? null,
    });
    const res = await fetchWithTimeout(this.runner.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-ost-signature-256': sign(this.runner.secret, body),
        'idempotency-key': run.key,
      },
    });
    if (!res.ok) throw new Error(`webhook runner ${this.runner.url} answered ${res.status}`);
  }
}
