// Mail and chat through crashes: the crash worker (the real engine, store and delivery) is SIGKILLed
// 20 times, half of them after the SMTP server took a mail and before the worker heard so, and
// started again each time, mailing a real SMTP server and telling a Matrix room (the stand-in) on
// loopback. Every mail of a run that was never killed arrives at least once (the culprit's verdict,
// each change it blocked), a mail sent again keeps its Message-ID, and the Matrix room holds each
// message exactly once, however often it was sent.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from '../../src/sim/random.ts';
import { bundleCrashWorker, startWorker } from '../helpers/crash-worker-run.ts';
import { startChatServices } from '../helpers/chat-services.ts';
import { startSmtp } from '../helpers/smtp.ts';

let worker: Awaited<ReturnType<typeof bundleCrashWorker>>;
beforeAll(async () => {
  worker = await bundleCrashWorker();
});
afterAll(() => worker.remove());

/** What the mails told: `culprit <change>`, `blocked <change>` for every change of a blocked mail. */
function told(mails: ParsedMail[]): Set<string> {
  const out = new Set<string>();
  for (const m of mails) {
    const subject = m.subject ?? '';
    const verdict = /^\[ost-gate\] crash-test: (\w+) /.exec(subject)?.[1];
    if (!verdict) continue;
    // a blocked mail names the culprit too: every other change in it is one it blocked
    const changes = verdict === 'blocked' ? ((m.text ?? '').match(/\ba\d+\b/g) ?? []) : [];
    if (verdict === 'blocked') for (const change of changes.filter((c) => c !== 'a7')) out.add(`blocked ${change}`);
    else out.add(`${verdict} ${/\ba\d+\b/.exec(subject)?.[0]}`);
  }
  return out;
}

describe('mail through crashes', () => {
  it('sends every mail of an uninterrupted run at least once through 20 SIGKILLs', async () => {
    const base = await mkdtemp(join(tmpdir(), 'ost-mail-crash-'));
    const reference = await startSmtp();
    const killed = await startSmtp();
    const chat = await startChatServices();
    // half the kills land after the server took a mail and before the sender heard so (every other
    // mail taken), the others at random moments
    let killNow = () => {};
    let killedAtMail = 0;
    killed.onTaken = (n) => {
      if (n % 2 === 0 && killedAtMail < 10) {
        killedAtMail++;
        killNow();
      }
    };
    try {
      const uninterrupted = await startWorker(worker.path, {
        dataDir: join(base, 'reference'),
        reports: join(base, 'reference.jsonl'),
        killAfterMs: null,
        smtpUrl: reference.url,
      });
      expect(uninterrupted.code).toBe(0);
      const expected = told(reference.received);
      expect(expected).toContain('culprit a7');
      expect(expected).toContain('blocked a18');

      const rng = seeded(23);
      let kills = 0;
      let randomKills = 0;
      let finished = false;
      for (let attempt = 0; attempt < 60 && !finished; attempt++) {
        const atMailBefore = killedAtMail;
        const outcome = await startWorker(worker.path, {
          dataDir: join(base, 'killed'),
          reports: join(base, 'killed.jsonl'),
          killAfterMs: randomKills < 10 ? Math.floor(rng.next() * 150) : null,
          smtpUrl: killed.url,
          matrixUrl: chat.homeserver,
          onStart: (kill) => (killNow = kill),
        });
        if (!outcome.killed) {
          expect(outcome.code).toBe(0);
          finished = true;
          continue;
        }
        kills++;
        if (killedAtMail === atMailBefore) randomKills++;
      }
      expect([finished, kills, killedAtMail]).toEqual([true, 20, 10]);
      expect([...told(killed.received)].sort()).toEqual([...expected].sort());
      // a mail sent again is the same mail: its Message-ID, subject and recipients
      const byId = new Map<string, string>();
      for (const m of killed.received) {
        const seen = byId.get(m.messageId!);
        const what = `${m.subject} ${JSON.stringify(m.to)}`;
        if (seen) expect(seen).toBe(what);
        byId.set(m.messageId!, what);
      }
      // one Matrix message per mail to the list, however many times it was sent
      expect(chat.matrix.map((e) => e.content.body!.split('\n')[0]).sort()).toEqual(
        [...byId.values()].map((what) => what.split(' [{')[0]!.replace(/ \{.*$/, '')).sort(),
      );
      console.log(
        `mail through ${kills} kills: ${killed.received.length} mails received for ${reference.received.length} ` +
          `of the run never killed (${killed.received.length - byId.size} sent again); Matrix: ` +
          `${chat.matrixRequests} requests, ${chat.matrix.length} messages`,
      );
    } finally {
      await reference.close();
      await killed.close();
      await chat.close();
    }
  }, 600_000); // a hang guard only: about 25 starts of a plain Node process
});
