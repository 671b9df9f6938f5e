// `ost-gate check` and mail and chat: a repo config asking for what the server config cannot send is
// refused with the line the server would give; a credential variable that is not set is named; and
// --send-test sends one message to an address (a real SMTP server on loopback) or a channel (the
// Slack stand-in), and says so, or says what the service answered.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { startChatServices } from '../helpers/chat-services.ts';
import { startSmtp } from '../helpers/smtp.ts';

async function configs(server: string, repo: string) {
  const dir = await mkdtemp(join(tmpdir(), 'ost-check-notify-'));
  await writeFile(join(dir, 'server.yml'), server);
  await writeFile(join(dir, 'repo.yml'), repo);
  return { server: join(dir, 'server.yml'), repo: join(dir, 'repo.yml') };
}

const REPO = 'ci: {provider: jenkins, job: ost}\n';

describe('ost-gate check, mail and chat', () => {
  it('refuses a repo config mailing outside allowed_domains, or naming a channel the server lacks', async () => {
    const { server, repo } = await configs(
      'email:\n  smtp: smtp://mail.example.org:587\n  from: bot@example.org\n  allowed_domains: [example.org]\n',
      `${REPO}report:\n  email: {to: [ops@elsewhere.example]}\n  channels: [infra-chat]\n`,
    );
    const res = await runCli('check', '--server-config', server, '--repo-config', repo);
    expect(res.code).toBe(1);
    expect(res.out).toContain(
      'report.email.to: ops@elsewhere.example is outside the domains this server sends to (example.org)',
    );
    expect(res.out).toContain(
      'report.channels: infra-chat is not a channel of this server (it declares none under channels:)',
    );
  });

  it('names a credential variable that is not set', async () => {
    const { server } = await configs(
      'email:\n  smtp: smtp://mail.example.org:587\n  from: bot@example.org\n  password_env: OST_TEST_UNSET_PASSWORD\n',
      REPO,
    );
    const res = await runCli('check', '--server-config', server);
    expect(res).toMatchObject({ code: 1 });
    expect(res.out).toBe(
      'email.password_env names OST_TEST_UNSET_PASSWORD, which is not set: set it to the SMTP password',
    );
  });

  it('sends a test mail, and a test chat message, with --send-test', async () => {
    const smtp = await startSmtp();
    const chat = await startChatServices();
    process.env.OST_TEST_SLACK_URL = chat.slackUrl;
    try {
      const { server } = await configs(
        `email:\n  smtp: ${smtp.url}\n  from: "ost-gate <bot@example.org>"\n` +
          'channels:\n  infra-chat: { slack: { url_env: OST_TEST_SLACK_URL } }\n',
        REPO,
      );
      const mail = await runCli('check', '--server-config', server, '--send-test', 'ops@example.org');
      expect(mail.out).toMatch(/sent a test mail to ops@example\.org through smtp:\/\/127\.0\.0\.1:\d+/);
      expect(mail.code).toBe(0);
      expect(smtp.received.map((m) => m.subject)).toEqual(['[ost-gate] test message']);
      const told = await runCli('check', '--server-config', server, '--send-test', 'infra-chat');
      expect([told.code, told.out.split('\n')[1]]).toEqual([0, 'sent a test message to slack channel infra-chat']);
      expect(chat.slack).toHaveLength(1);
      smtp.answer = () => 550;
      const refused = await runCli('check', '--server-config', server, '--send-test', 'ops@example.org');
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/refused the test mail to ops@example\.org: 550 mailbox unavailable/);
      const unknown = await runCli('check', '--server-config', server, '--send-test', 'nowhere');
      expect(unknown.out).toContain(
        '--send-test nowhere: give an address, or a channel of the server config (infra-chat)',
      );
    } finally {
      delete process.env.OST_TEST_SLACK_URL;
      await smtp.close();
      await chat.close();
    }
  });
});
