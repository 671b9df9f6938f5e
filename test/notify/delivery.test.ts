// Sending a mail effect over a real SMTP server on loopback: a mail taken is sent once; a temporary
// refusal (4xx) or no server at all throws, so that the outbox keeps it and tries again; a
// permanent refusal (5xx) is not tried again and puts a notice on the queue's page. An outbox whose
// entry failed drains again by itself, with a backoff, without waiting for the queue's next event.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailEffect } from '../../src/core/index.ts';
import type { DispatchContext, Performer } from '../../src/engine/effects.ts';
import { KeyedLock } from '../../src/engine/lock.ts';
import { Outbox } from '../../src/engine/outbox.ts';
import { silentLogger } from '../../src/log.ts';
import { Delivery } from '../../src/notify/delivery.ts';
import { SmtpMailer } from '../../src/notify/smtp.ts';
import type { QueueFile, QueueNotice } from '../../src/store/types.ts';
import { applyRecord } from '../../src/engine/replay.ts';
import { freePort } from '../helpers/ports.ts';
import { queueFile } from '../helpers/report.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const effect: MailEffect = {
  type: 'mail',
  to: ['infra@example.org'],
  about: { kind: 'queue', code: 'queue-paused', level: 'error', message: 'queue q paused: the CI is down' },
};

function context(file: QueueFile): DispatchContext & { notices: QueueNotice[] } {
  const notices: QueueNotice[] = [];
  return {
    queue: 'q',
    file,
    now: () => 5,
    submit: async () => undefined,
    notice: async (n) => void notices.push(n),
    notices,
  };
}

const mailerTo = (smtp: string) => new SmtpMailer({ smtp, from: 'ost-gate <bot@example.org>' }, {});

describe('sending a mail', () => {
  let smtp: TestSmtp;
  let mailer: SmtpMailer;
  beforeEach(async () => {
    smtp = await startSmtp();
    mailer = mailerTo(smtp.url);
  });
  afterEach(async () => {
    mailer.close();
    await smtp.close();
  });

  it('sends a mail the server takes, and throws on a temporary refusal so that it is tried again', async () => {
    const delivery = new Delivery({ mailer, rooms: {}, log: silentLogger });
    const ctx = context(queueFile('q'));
    smtp.answer = () => 421;
    await expect(delivery.deliver(effect, 'mail:1', ctx)).rejects.toThrow(/^smtp:\/\/127\.0\.0\.1:\d+: 421/);
    smtp.answer = () => 250;
    await delivery.deliver(effect, 'mail:1', ctx);
    expect(smtp.received.map((m) => m.subject)).toEqual(['[ost-gate] q: queue paused']);
    expect(smtp.refused).toEqual([421]);
    expect(ctx.notices).toEqual([]);
  });

  it('gives up on a permanent refusal, with a notice on the queue saying to whom and why', async () => {
    smtp.answer = () => 550;
    const ctx = context(queueFile('q'));
    await new Delivery({ mailer, rooms: {}, log: silentLogger }).deliver(effect, 'mail:2', ctx);
    expect(ctx.notices).toEqual([
      {
        at: 5,
        level: 'error',
        code: 'message-failed',
        message: expect.stringMatching(
          /^mail to infra@example\.org refused for good by smtp:\/\/127\.0\.0\.1:\d+: 550 mailbox unavailable \(subject: \[ost-gate\] q: queue paused\)$/,
        ),
      },
    ]);
  });

  it("does not mail an author's address outside email.allowed_domains (a commit can name any)", async () => {
    const ctx = context(queueFile('q'));
    const delivery = new Delivery({ mailer, rooms: {}, log: silentLogger, allowedDomains: ['Example.org'] });
    await delivery.deliver({ ...effect, to: ['someone@elsewhere.example'] }, 'mail:9', ctx);
    await delivery.deliver({ ...effect, to: ['dev@example.org'] }, 'mail:10', ctx);
    expect(smtp.received.map((m) => (Array.isArray(m.to) ? m.to : [m.to])[0]!.text)).toEqual(['dev@example.org']);
    expect(ctx.notices.map((n) => n.message)).toEqual([
      'a mail to someone@elsewhere.example was not sent: outside email.allowed_domains',
    ]);
  });

  it('throws when no server answers, naming the server without credentials', async () => {
    const port = await freePort();
    const mailer = new SmtpMailer(
      { smtp: `smtp://127.0.0.1:${port}`, from: 'bot@example.org', user_env: 'U', password_env: 'P' },
      { U: 'bot', P: 'secret-password' },
    );
    const err = await new Delivery({ mailer, rooms: {}, log: silentLogger })
      .deliver(effect, 'mail:3', context(queueFile('q')))
      .catch((e: Error) => e);
    expect(String(err)).toMatch(new RegExp(`smtp://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(String(err)).not.toContain('secret-password');
    mailer.close();
  });

  it('refuses to start with a credential variable that is not set, in one line', () => {
    expect(
      () => new SmtpMailer({ smtp: 'smtp://mail:587', from: 'a@b.org', password_env: 'OST_SMTP_PASSWORD' }, {}),
    ).toThrow('email.password_env names OST_SMTP_PASSWORD, which is not set: set it to the SMTP password');
  });
});

describe('an outbox entry that failed', () => {
  it('is tried again by itself, after a backoff, until it takes', async () => {
    const file = queueFile('q');
    file.outbox.push({ id: '1', key: 'mail:1', effect });
    let tries = 0;
    const performer: Performer = {
      perform: async () => {
        if (++tries < 3) throw new Error('421 try again later');
      },
      alreadyDone: async () => false,
      resume: async () => undefined,
    };
    const appended: unknown[] = [];
    const files = {
      get: async () => file,
      append: async (_f: QueueFile, record: { ids: string[] }) => {
        appended.push(record);
        file.outbox = file.outbox.filter((e) => !record.ids.includes(e.id));
      },
    };
    const outbox = new Outbox({
      lock: new KeyedLock(),
      files: files as never,
      performer,
      log: silentLogger,
      context: () => context(file),
      mayRetry: () => true,
    });
    await outbox.drain('q');
    expect(tries).toBe(1);
    // tried again after 1 s, then 2 s: a hang guard of 60 s, not a time limit
    for (let i = 0; i < 600 && file.outbox.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(tries).toBe(3);
    expect(appended).toEqual([{ type: 'done', ids: ['1'], at: 5 }]);
    outbox.stop();
  });
});

describe('what the queue keeps of its messages', () => {
  it('lists each mail and chat message done, with the answer of one refused for good, and forgets the oldest', () => {
    const file = queueFile('q');
    const verdict = { change: 'c1', verdict: 'culprit' as const, at: 1 };
    file.outbox.push(
      { id: '1', key: 'mail:1', effect },
      {
        id: '2',
        key: 'chat:2',
        effect: { type: 'chat', channel: 'infra-chat', about: { kind: 'verdict', change: 'c1', verdict } },
      },
      { id: '3', key: 'report:q:c1:culprit', effect: { type: 'report', change: 'c1', verdict } },
    );
    applyRecord(
      file,
      { n: 1, type: 'done', ids: ['1', '2', '3'], at: 9, refused: { '2': '404 channel_not_found' } },
      {},
    );
    expect(file.outbox).toEqual([]);
    expect(file.sent).toEqual([
      { at: 9, via: 'mail', to: 'infra@example.org', what: 'queue-paused', changes: [] },
      { at: 9, via: 'chat', to: 'infra-chat', what: 'culprit', changes: ['c1'], refused: '404 channel_not_found' },
    ]);
    for (let i = 0; i < 120; i++) {
      file.outbox.push({ id: `m${i}`, key: `mail:m${i}`, effect });
      applyRecord(file, { n: 2 + i, type: 'done', ids: [`m${i}`], at: 10 + i }, {});
    }
    expect(file.sent).toHaveLength(100);
    expect(file.sent!.at(-1)!.at).toBe(129);
  });
});
