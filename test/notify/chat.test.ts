// Chat messages to the stand-ins of a Slack incoming webhook and a Matrix homeserver: the text of the
// verdict document; a 429 thrown with the wait the service asked for; a refusal for good as a notice
// on the queue; a Matrix message sent again under its transaction id stays one message; no webhook URL
// or token in an error; a channel whose secret is missing stops the start in one line; a repo config
// naming a channel the server does not declare is refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEffect } from '../../src/core/index.ts';
import type { DispatchContext } from '../../src/engine/effects.ts';
import { silentLogger } from '../../src/log.ts';
import { chatRooms, TryAgainError } from '../../src/notify/chat.ts';
import { reportChannelsProblems } from '../../src/notify/config.ts';
import { Delivery } from '../../src/notify/delivery.ts';
import type { QueueNotice } from '../../src/store/types.ts';
import { startChatServices, type ChatServices } from '../helpers/chat-services.ts';
import { freePort } from '../helpers/ports.ts';
import { queueFile } from '../helpers/report.ts';

const paused = (channel: string): ChatEffect => ({
  type: 'chat',
  channel,
  about: {
    kind: 'queue',
    code: 'queue-paused',
    level: 'error',
    message: 'queue q paused: the CI is down; /ost resume',
  },
});

function context(): DispatchContext & { notices: QueueNotice[] } {
  const notices: QueueNotice[] = [];
  return {
    queue: 'q',
    file: queueFile('q'),
    now: () => 5,
    submit: async () => undefined,
    notice: async (n) => void notices.push(n),
    notices,
  };
}

function deliveryTo(services: ChatServices, slackUrl = services.slackUrl) {
  const rooms = chatRooms(
    {
      'infra-chat': { slack: { url_env: 'SLACK_URL' } },
      'ovirt-room': { matrix: { homeserver: services.homeserver, room: services.room, token_env: 'MATRIX_TOKEN' } },
    },
    { SLACK_URL: slackUrl, MATRIX_TOKEN: services.token },
  );
  return new Delivery({ mailer: null, rooms, log: silentLogger });
}

describe('chat messages', () => {
  let services: ChatServices;
  beforeEach(async () => {
    services = await startChatServices();
  });
  afterEach(() => services.close());

  it('posts the message to Slack and to the Matrix room, as text and HTML', async () => {
    const delivery = deliveryTo(services);
    await delivery.deliver(paused('infra-chat'), 'chat:1', context());
    await delivery.deliver(paused('ovirt-room'), 'chat:2', context());
    expect(services.slack).toEqual([
      { text: expect.stringMatching(/^\*\[ost-gate\] q: queue paused\*\nost-gate: queue paused\n.*\/ost resume/) },
    ]);
    expect(services.matrix).toEqual([
      {
        txnId: 'chat:2',
        content: {
          msgtype: 'm.notice',
          body: expect.stringMatching(/^\[ost-gate\] q: queue paused\n/),
          format: 'org.matrix.custom.html',
          formatted_body: expect.stringMatching(/^<p><strong>\[ost-gate\] q: queue paused<\/strong><\/p><h3>/),
        },
      },
    ]);
  });

  it('sends a Matrix message again under the same transaction id: still one message in the room', async () => {
    const delivery = deliveryTo(services);
    await delivery.deliver(paused('ovirt-room'), 'chat:7', context());
    await delivery.deliver(paused('ovirt-room'), 'chat:7', context());
    expect([services.matrixRequests, services.matrix.length]).toEqual([2, 1]);
  });

  it('throws on a 429 with the wait asked for, and notes a refusal for good on the queue', async () => {
    const delivery = deliveryTo(services);
    services.next.slack.push(429);
    services.next.matrix.push(429, 403);
    const slackErr = await delivery.deliver(paused('infra-chat'), 'chat:3', context()).catch((e: unknown) => e);
    expect(slackErr).toBeInstanceOf(TryAgainError);
    expect((slackErr as TryAgainError).retryAfterMs).toBe(1000);
    const matrixErr = await delivery.deliver(paused('ovirt-room'), 'chat:4', context()).catch((e: unknown) => e);
    expect((matrixErr as TryAgainError).retryAfterMs).toBe(1200);
    const ctx = context();
    await delivery.deliver(paused('ovirt-room'), 'chat:4', ctx);
    expect(ctx.notices.map((n) => [n.code, n.message])).toEqual([
      [
        'message-failed',
        expect.stringMatching(
          /^matrix room !ops:example\.org on 127\.0\.0\.1:\d+ refused a message for good: 403 .*M_FORBIDDEN/,
        ),
      ],
    ]);
    expect([services.slack.length, services.matrix.length]).toEqual([0, 0]);
  });

  it('names the channel, never the webhook URL, when the service does not answer', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/services/T000/B000/webhook-secret`;
    const err = await deliveryTo(services, closed)
      .deliver(paused('infra-chat'), 'chat:5', context())
      .catch((e: Error) => e);
    expect(err).toBeInstanceOf(TryAgainError);
    expect(String(err)).toMatch(/^Error: slack channel infra-chat: no answer/);
    expect(String(err)).not.toContain('webhook-secret');
  });

  it('notes a channel this server does not have on the queue, and does not try again', async () => {
    const ctx = context();
    await deliveryTo(services).deliver(paused('gone'), 'chat:6', ctx);
    expect(ctx.notices.map((n) => n.message)).toEqual(['chat channel gone is not declared on this server']);
  });
});

describe('chat settings', () => {
  it('stop the start in one line when a secret variable is not set', () => {
    expect(() => chatRooms({ 'infra-chat': { slack: { url_env: 'OST_SLACK_URL' } } }, {})).toThrow(
      'channels.infra-chat names OST_SLACK_URL, which is not set: set it to the Slack incoming webhook URL',
    );
  });

  it('refuse a repo config naming a channel the server does not declare', () => {
    expect(reportChannelsProblems(['infra-chat', 'elsewhere'], { 'infra-chat': {} })).toEqual([
      'report.channels: elsewhere is not a channel of this server (it has infra-chat)',
    ]);
    expect(reportChannelsProblems(['x'], {})).toEqual([
      'report.channels: x is not a channel of this server (it declares none under channels:)',
    ]);
  });
});
