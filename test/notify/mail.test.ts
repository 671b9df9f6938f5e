// Mail decided and written from a step: which verdicts and notices are mailed to whom (report.notify,
// report.email.to, the culprit's author), blocked changes summed up per culprit; the subject,
// threading headers, plain-text and escaped HTML parts from the same document as the comments; and
// what a repo config may ask of this server's mail.
import { describe, expect, it } from 'vitest';
import type { ChangeRecord, Effect, VerdictRecord } from '../../src/core/index.ts';
import { reportEmailProblems } from '../../src/notify/config.ts';
import { mailMessage, threadId } from '../../src/notify/message.ts';
import { authorAddress, plannedMessages } from '../../src/notify/plan.ts';
import { senderDomain } from '../../src/notify/smtp.ts';
import { defaultLabel } from '../../src/report/model.ts';
import { queueFile } from '../helpers/report.ts';

const change = (n: number, author: string | null = null): ChangeRecord => ({
  id: `git:app@${String(n).repeat(40)}`,
  sha: String(n).repeat(40),
  number: null,
  title: `change <${n}> & more`,
  url: `https://code.example/${n}`,
  author,
  host: 'git',
  project: 'app',
  branch: 'master',
  stream: 'git:app@master',
  seq: n,
  state: 'done',
  enqueuedAt: 0,
});
const C = [change(1), change(2, 'Dana Dev <dana@example.org>'), change(3), change(4)];
const id = (n: number) => C[n - 1]!.id;
const verdict = (n: number, v: VerdictRecord['verdict'], culprit?: number): VerdictRecord => ({
  change: id(n),
  verdict: v,
  at: 10,
  ...(culprit ? { culprit: id(culprit) } : {}),
});
const report = (v: VerdictRecord): Effect => ({ type: 'report', change: v.change, verdict: v });
const CONFIG = (email: string, notify = '[culprit, blocked, fixed]') =>
  `ci: {provider: "command:check"}\nreport:\n  notify: ${notify}\n  email: ${email}\n`;

describe('the mails of a step', () => {
  const step: Effect[] = [
    report(verdict(1, 'passed')),
    report(verdict(2, 'culprit')),
    report(verdict(3, 'blocked', 2)),
    report(verdict(4, 'blocked', 2)),
    { type: 'notice', level: 'error', code: 'queue-paused', message: 'queue q paused: run q.3 ended error' },
    { type: 'notice', level: 'info', code: 'flake-recorded', message: 'not mailed' },
  ];

  it('mails the list each verdict of report.notify, the blocked ones in one mail per culprit, and the paused queue', () => {
    const file = queueFile('q', C, CONFIG('{to: [infra@example.org]}'));
    const mails = plannedMessages(file, step);
    const to = (m: (typeof mails)[number]) => (m.type === 'mail' ? m.to : [m.channel]);
    expect(mails.map((m) => [to(m), m.about.kind, 'change' in m.about ? m.about.change : null])).toEqual([
      [['infra@example.org'], 'verdict', id(2)],
      [['infra@example.org'], 'queue', null],
      [['infra@example.org'], 'blocked', null],
    ]);
    expect(mails[2]!.about).toMatchObject({ culprit: id(2), changes: [id(3), id(4)] });
  });

  it("sends the culprit's author its own verdict, and nothing else, with author: true", () => {
    const file = queueFile('q', C, CONFIG('{author: true}'));
    expect(plannedMessages(file, step)).toEqual([
      {
        type: 'mail',
        to: ['dana@example.org'],
        about: { kind: 'verdict', change: id(2), verdict: verdict(2, 'culprit') },
        startsThread: true,
      },
    ]);
  });

  it('starts a change thread with its first verdict mailed only', () => {
    const file = queueFile('q', C, CONFIG('{to: [infra@example.org]}'));
    const starts = (f: typeof file) => plannedMessages(f, step).map((m) => m.type === 'mail' && !!m.startsThread);
    expect(starts(file)).toEqual([true, false, false]);
    file.sent = [{ at: 1, via: 'mail', to: 'infra@example.org', what: 'blocked (1 changes)', changes: [id(2)] }];
    expect(starts(file)).toEqual([false, false, false]);
  });

  it('tells each channel of report.channels what it tells the list, and nothing of the author', () => {
    const file = queueFile('q', C, `${CONFIG('{author: true}')}  channels: [infra-chat, ovirt-room]\n`);
    const told = plannedMessages(file, step).map((m) =>
      m.type === 'chat' ? `${m.channel} ${m.about.kind}` : `${m.to.join()} ${m.about.kind}`,
    );
    expect(told).toEqual([
      'infra-chat verdict',
      'ovirt-room verdict',
      'dana@example.org verdict',
      'infra-chat queue',
      'ovirt-room queue',
      'infra-chat blocked',
      'ovirt-room blocked',
    ]);
  });

  it('sends nothing without report.email, or for verdicts outside report.notify', () => {
    expect(plannedMessages(queueFile('q', C, 'ci: {provider: "command:check"}\n'), step)).toEqual([]);
    const onlyFixed = queueFile('q', C, CONFIG('{to: [infra@example.org]}', '[fixed]'));
    expect(plannedMessages(onlyFixed, step).map((m) => m.about.kind)).toEqual(['queue']);
  });

  it('reads the address of an author', () => {
    expect(authorAddress('Dana Dev <dana@example.org>')).toBe('dana@example.org');
    expect(authorAddress('dana@example.org')).toBe('dana@example.org');
    expect(authorAddress('dana')).toBeNull();
    expect(authorAddress(null)).toBeNull();
  });
});

describe('a mail as written', () => {
  const file = queueFile('q', C, CONFIG('{to: [infra@example.org]}'));
  file.state.runs['q.7'] = {
    key: 'q.7',
    line: 'main',
    kind: 'batch',
    end: id(2),
    changes: [id(1), id(2)],
    refs: {},
    state: 'failed',
    attempt: 1,
    createdAt: 0,
    deadline: 1,
    url: 'https://ci.example/7',
  } as never;
  const ctx = { queue: 'q', file, labelOf: defaultLabel, publicUrl: 'https://ost.example.org', domain: 'example.org' };
  const culprit = { ...verdict(2, 'culprit'), run: 'q.7', confidence: 0.99 };
  /** The first mail about change 2, telling `v`. */
  const firstMail = (v: VerdictRecord, key: string) =>
    mailMessage(
      {
        type: 'mail',
        to: ['infra@example.org'],
        about: { kind: 'verdict', change: id(2), verdict: v },
        startsThread: true,
      },
      key,
      ctx,
    );

  it('has the subject, threading headers and both parts of the verdict', () => {
    const mail = firstMail(culprit, 'mail:1');
    expect(mail.subject).toBe(`[ost-gate] q: culprit ${'2'.repeat(10)} change <2> & more`);
    // the first mail about the change starts its thread
    expect(mail.messageId).toBe(threadId('q', id(2), 'example.org'));
    expect(mail.messageId).toMatch(/^<[0-9a-f]{24}\.thread@example\.org>$/);
    expect(mail.headers['In-Reply-To']).toBeUndefined();
    expect(mail.headers['Auto-Submitted']).toBe('auto-generated');
    expect(mail.headers['List-Id']).toMatch(/^ost-gate queue q <[0-9a-f]{24}\.ost-gate\.example\.org>$/);
    expect(mail.text).toMatch(/^ost-gate: culprit\n/);
    expect(mail.text).toContain('https://ci.example/7');
    expect(mail.text).toContain('/ost not-culprit');
    expect(mail.text).toContain(`https://ost.example.org/changes/${encodeURIComponent(id(2))}`);
    expect(mail.text).not.toMatch(/ost-gate-report/);
    expect(mail.html).toContain('<a href="https://ci.example/7">q.7</a>');
    expect(mail.html).toContain('change &lt;2&gt; &amp; more');
    expect(mail.html).not.toContain('<2>');
  });

  it('says a provisional pass in its subject and text', () => {
    const early = { ...verdict(2, 'passed'), run: 'q.7', provisional: { tests: ['net.flaky'], flake: 0.95 } };
    const mail = firstMail(early, 'mail:2');
    expect(mail.subject).toBe(`[ost-gate] q: passed (provisional) ${'2'.repeat(10)} change <2> & more`);
    expect(mail.text).toMatch(/^ost-gate: passed \(provisional\)\n/);
    expect(mail.text).toContain('This pass is provisional');
  });

  it('answers in the thread once a mail about the change was sent, with a Message-ID of its entry', () => {
    const later = ctx;
    const about = { kind: 'verdict' as const, change: id(2), verdict: culprit };
    const mail = mailMessage({ type: 'mail', to: [], about }, 'mail:1', later);
    expect(mail.messageId).toMatch(/^<[0-9a-f]{24}@example\.org>$/);
    expect(mail.headers).toMatchObject({
      'In-Reply-To': threadId('q', id(2), 'example.org'),
      References: threadId('q', id(2), 'example.org'),
    });
    // the same entry gives the same Message-ID (a retry), another entry another
    expect(mailMessage({ type: 'mail', to: [], about }, 'mail:1', later).messageId).toBe(mail.messageId);
    expect(mailMessage({ type: 'mail', to: [], about }, 'mail:2', later).messageId).not.toBe(mail.messageId);
    // a fix goes to the thread of the culprit it fixed
    const fixed = { kind: 'verdict' as const, change: id(3), verdict: { ...verdict(3, 'fixed'), culprit: id(2) } };
    expect(mailMessage({ type: 'mail', to: [], about: fixed }, 'mail:3', ctx).headers.References).toBe(
      threadId('q', id(2), 'example.org'),
    );
  });

  it('sums up the blocked changes of one culprit in the culprit thread', () => {
    const mail = mailMessage(
      {
        type: 'mail',
        to: ['infra@example.org'],
        about: { kind: 'blocked', culprit: id(2), changes: [id(3), id(4)], verdicts: [] },
      },
      'mail:3',
      ctx,
    );
    expect(mail.subject).toBe(`[ost-gate] q: blocked 2 changes by ${'2'.repeat(10)} change <2> & more`);
    expect(mail.headers.References).toBe(threadId('q', id(2), 'example.org'));
    expect(mail.text).toContain(`${'3'.repeat(10)} (change <3> & more) https://code.example/3, ${'4'.repeat(10)}`);
  });

  it('says a paused queue with the command that resumes it, in the queue thread', () => {
    const message = 'queue q paused: run q.3 ended error after 3 attempt(s). Fix the CI, then /ost resume.';
    const mail = mailMessage(
      {
        type: 'mail',
        to: ['infra@example.org'],
        about: { kind: 'queue', code: 'queue-paused', level: 'error', message },
      },
      'mail:4',
      ctx,
    );
    expect(mail.subject).toBe('[ost-gate] q: queue paused');
    expect(mail.text).toContain('/ost resume');
    expect(mail.text).toContain('https://ost.example.org/queues/q');
    expect(mail.headers.References).toBe(threadId('q', null, 'example.org'));
  });

  it('takes its Message-ID domain from the sender', () => {
    expect(senderDomain('ost-gate <bot@mail.example.org>')).toBe('mail.example.org');
    expect(senderDomain('bot@example.org')).toBe('example.org');
    expect(senderDomain('nobody')).toBe('ost-gate.invalid');
  });
});

describe('what a repo config may ask of mail', () => {
  const server = { smtp: 'smtp://mail.example.org:587', from: 'bot@example.org', allowed_domains: ['example.org'] };

  it('refuses addresses outside email.allowed_domains, and mail on a server without email:', () => {
    expect(reportEmailProblems({ to: ['infra@example.org'], author: false }, server)).toEqual([]);
    expect(reportEmailProblems({ to: ['x@evil.example'], author: false }, server)).toEqual([
      'report.email.to: x@evil.example is outside the domains this server sends to (example.org)',
    ]);
    expect(reportEmailProblems({ to: [], author: true }, undefined)).toEqual([
      'report.email: this server sends no mail (its config has no email: section)',
    ]);
    expect(reportEmailProblems({ to: [], author: false }, undefined)).toEqual([]);
  });
});
