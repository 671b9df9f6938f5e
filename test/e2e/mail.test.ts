// End to end through `ost-gate serve` as a process: a culprit on a watched git repository is mailed,
// over a real SMTP server on loopback, to the list of report.email.to and to the culprit's author,
// threaded, with links that open; the changes it blocks come summed up in the culprit's thread; and it
// is told once in a Slack channel and once in a Matrix room (stand-ins on loopback). The SMTP server
// refuses every mail with a temporary error for a minute from the first one, Slack the first message
// with a 429: nothing is lost, nothing comes twice.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveProcess } from '../helpers/cli.ts';
import { freePort } from '../helpers/ports.ts';
import { startChatServices } from '../helpers/chat-services.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { watchedRepo } from '../helpers/watched-repo.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mail from ost-gate serve', () => {
  it('mails a culprit to the list and its author, threaded, and tells it once in Slack and Matrix, through refusals', async () => {
    const smtp = await startSmtp();
    // for a minute from the first mail offered, every mail is refused as a busy server would: 451
    let outageEnds = 0;
    smtp.answer = (n) => {
      if (n === 0) outageEnds = Date.now() + 60_000;
      return Date.now() < outageEnds ? 451 : 250;
    };
    const chat = await startChatServices();
    chat.next.slack.push(429);
    const { dir, repo, serverConfig, git } = await watchedRepo(
      'ci:\n  provider: command:check\n  max_parallel: 3\nflaky:\n  confirm: 1\n  confidence: 0\n' +
        'report:\n  notify: [culprit, blocked, fixed]\n  email:\n    to: [infra@example.org]\n    author: true\n' +
        '  channels: [infra-chat, ovirt-room]\n',
    );
    await appendFile(
      serverConfig,
      `email:\n  smtp: ${smtp.url}\n  from: "ost-gate <ost-gate@example.org>"\n` +
        `channels:\n  infra-chat: { slack: { url_env: OST_SLACK_URL } }\n` +
        `  ovirt-room: { matrix: { homeserver: "${chat.homeserver}", room: "${chat.room}", token_env: OST_MATRIX_TOKEN } }\n`,
    );
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = serveProcess({
      PORT: String(port),
      OST_DATA_DIR: join(dir, 'data'),
      OST_SERVER_CONFIG: serverConfig,
      OST_PUBLIC_URL: base,
      OST_SLACK_URL: chat.slackUrl,
      OST_MATRIX_TOKEN: chat.token,
    });
    const api = `${base}/api/queues/${encodeURIComponent('git:app@master')}`;
    try {
      for (
        let i = 0;
        i < 600 &&
        !(await fetch(api).then(
          (r) => r.ok,
          () => false,
        ));
        i++
      )
        await sleep(100);
      const shas: string[] = [];
      for (let i = 1; i <= 5; i++) {
        if (i === 3) await writeFile(join(repo, 'value.txt'), 'broken\n');
        await writeFile(join(repo, `f${i}.txt`), `${i}\n`);
        await git('add', '-A');
        await git('commit', '-qm', `change ${i}`);
        shas.push(await git('rev-parse', 'HEAD'));
      }
      const blockedIn = () =>
        smtp.received
          .filter((m) => /: blocked /.test(m.subject ?? ''))
          .flatMap((m) => m.text?.match(/\b[0-9a-f]{10}\b/g) ?? []);
      const culpritMails = () => smtp.received.filter((m) => /: culprit /.test(m.subject ?? ''));
      for (let i = 0; i < 3000; i++) {
        const blocked = new Set(blockedIn());
        if (culpritMails().length >= 2 && blocked.has(shas[3]!.slice(0, 10)) && blocked.has(shas[4]!.slice(0, 10)))
          break;
        await sleep(100);
      }
      expect(smtp.refused.length, server.output()).toBeGreaterThanOrEqual(2);
      expect(new Set(smtp.refused)).toEqual(new Set([451]));
      expect(Date.now()).toBeGreaterThanOrEqual(outageEnds);
      const [one, other] = culpritMails();
      expect(
        culpritMails(),
        smtp.received.map((m) => `${m.subject} -> ${JSON.stringify(m.to)}`).join('\n') + server.output(),
      ).toHaveLength(2);
      expect([one!.to, other!.to].map((to) => (Array.isArray(to) ? to : [to])[0]!.text).sort()).toEqual([
        'infra@example.org',
        't@example.invalid',
      ]);
      expect(one!.subject).toBe(`[ost-gate] git:app@master: culprit ${shas[2]!.slice(0, 10)} change 3`);
      expect(one!.from?.value).toEqual([{ address: 'ost-gate@example.org', name: 'ost-gate' }]);
      expect(one!.headers.get('auto-submitted')).toBe('auto-generated');
      // the culprit mails start the culprit change's thread; the blocked one answers in it
      const thread = one!.messageId;
      expect(thread).toMatch(/^<[0-9a-f]{24}\.thread@example\.org>$/);
      expect(other!.messageId).toBe(thread);
      const blockedMails = smtp.received.filter((m) => /: blocked /.test(m.subject ?? ''));
      expect(blockedMails.map((m) => [m.inReplyTo, m.references])).toEqual(blockedMails.map(() => [thread, thread]));
      // nothing came twice (to one recipient), and the blocked changes were each told once
      const ids = smtp.received.map((m) => `${m.messageId} ${(Array.isArray(m.to) ? m.to : [m.to])[0]!.text}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(blockedIn().filter((s) => s === shas[3]!.slice(0, 10))).toHaveLength(1);
      // the links open: the change on the dashboard, in both parts
      const link = /(http:\/\/127\.0\.0\.1:\d+\/changes\/[^\s"<]+)/.exec(one!.text ?? '')?.[1];
      expect(link).toBeDefined();
      expect(String(one!.html)).toContain(`href="${link}"`);
      expect((await fetch(link!)).status).toBe(200);
      // one culprit message in each chat room, after Slack's 429
      const culpritTold = (texts: string[]) => texts.filter((t) => t.includes(': culprit '));
      for (let i = 0; i < 600 && culpritTold(chat.slack.map((m) => m.text)).length === 0; i++) await sleep(100);
      expect(culpritTold(chat.slack.map((m) => m.text))).toHaveLength(1);
      expect(culpritTold(chat.matrix.map((m) => m.content.body!))).toHaveLength(1);
      expect(chat.next.slack).toEqual([]);
      // the change's page lists what was sent where
      const page = await (await fetch(link!)).text();
      expect(page).toContain('Mails and chat messages');
      for (const to of ['infra@example.org', 't@example.invalid', 'infra-chat', 'ovirt-room'])
        expect(page).toContain(`<td>${to}</td>`);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await smtp.close();
      await chat.close();
    }
  }, 400_000); // a hang guard: about 65 s on a quiet machine (a minute of them is the outage)
});
