// stream-events over SSH against a real ssh2 server in the test: lines split across chunks,
// reconnection after the server drops the connection, and catch-up through the events-log plugin.
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Server, utils } from 'ssh2';
import { parseableKeyPair } from '../helpers/ssh-keys.ts';
import { fingerprint, GerritStream, hostKeyMatches, LineSplitter } from '../../src/hosts/gerrit/stream.ts';
import type { GerritEvent } from '../../src/hosts/gerrit/types.ts';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.ts';

describe('LineSplitter', () => {
  it('yields whole lines only, keeping a partial line for the next chunk', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\r\n\n{"c":3}')).toEqual(['{"b":2}']);
    expect(s.push('\n')).toEqual(['{"c":3}']);
  });
});

/** The public key line (`ssh-ed25519 AAAA...`) of a public key in OpenSSH format. */
function hostKeyLine(publicKey: string): string {
  const key = utils.parseKey(publicKey);
  if (key instanceof Error) throw key;
  return `${key.type} ${key.getPublicSSH().toString('base64')}`;
}

describe('Gerrit SSH host keys', () => {
  const pair = parseableKeyPair();
  const blob = (() => {
    const key = utils.parseKey(pair.public);
    if (key instanceof Error) throw key;
    return key.getPublicSSH();
  })();

  it.each([
    ['its fingerprint', fingerprint(blob), true],
    ['its public key line', hostKeyLine(pair.public), true],
    ['another fingerprint', fingerprint(Buffer.from('another key')), false],
    ['another key line', hostKeyLine(parseableKeyPair().public), false],
    ['nothing, when the operator opted out', null, true],
  ])('a server showing the key matches %s: %s', (_what, expected, ok) => {
    expect(hostKeyMatches(expected, blob)).toBe(ok);
  });
});

describe('GerritStream', () => {
  it('reads events split across chunks, reconnects with backoff, and catches up through events-log when Gerrit drops events and after a reconnect', async () => {
    const hostKey = parseableKeyPair();
    const userKey = parseableKeyPair();
    let connections = 0;
    const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      connections += 1;
      const mine = connections;
      client.on('authentication', (ctx) =>
        ctx.method === 'publickey' && ctx.username === 'ost-gate' ? ctx.accept() : ctx.reject(['publickey']),
      );
      client.on('ready', () => {
        client.on('session', (accept) => {
          accept().on('exec', (acceptExec, _reject, info) => {
            const stream = acceptExec();
            expect(info.command).toBe('gerrit stream-events');
            if (mine === 1) {
              const line = JSON.stringify({
                type: 'change-merged',
                change: { project: 'p', branch: 'master', number: 1 },
                newRev: 'a',
                eventCreatedOn: 100,
              });
              stream.write(line.slice(0, 20));
              setTimeout(() => {
                stream.write(`${line.slice(20)}\n{"type":"dropped-output"}\nnot json\n`);
                setTimeout(() => client.end(), 30); // the server goes away
              }, 20);
            } else {
              stream.write(
                `${JSON.stringify({ type: 'change-merged', change: { project: 'p', branch: 'master', number: 3 }, newRev: 'c', eventCreatedOn: 300 })}\n`,
              );
            }
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const seen: GerritEvent[] = [];
    const asked: number[] = [];
    const stream = new GerritStream({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      username: 'ost-gate',
      privateKey: userKey.private,
      hostKey: hostKeyLine(hostKey.public),
      handle: async (e) => void seen.push(e),
      // the events-log plugin: the events after a time
      catchUp: async (since) => {
        asked.push(since);
        const logged: GerritEvent[] = [
          {
            type: 'change-merged',
            change: { project: 'p', branch: 'master', number: 2 },
            newRev: 'b',
            eventCreatedOn: 200,
          },
        ];
        return logged.filter((e) => e.eventCreatedOn! > since);
      },
      minBackoffMs: 20,
      keepaliveMs: 1000,
    });
    stream.start();
    try {
      for (let i = 0; i < 300 && seen.filter((e) => e.type === 'change-merged').length < 3; i++)
        await new Promise((r) => setTimeout(r, 10));
      await stream.idle();
      // dropped-output makes it catch up at once; the reconnect asks again, from the newest event seen
      expect(seen.map((e) => `${e.type}:${e.change?.number ?? ''}`)).toEqual([
        'change-merged:1',
        'change-merged:2',
        'change-merged:3',
      ]);
      expect(asked).toEqual([100, 200]);
      expect(connections).toBe(2);
    } finally {
      stream.stop();
      server.close();
    }
  }, 20_000);

  it('does not connect to a server whose host key is not GERRIT_SSH_HOST_KEY, and says so', async () => {
    const serverKey = parseableKeyPair();
    const userKey = parseableKeyPair();
    let authenticated = 0;
    const server = new Server({ hostKeys: [serverKey.private] }, (client) => {
      client.on('authentication', (ctx) => {
        authenticated += 1;
        ctx.accept();
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const lines: string[] = [];
    const log = createLogger({
      level: 'error',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    const seen: GerritEvent[] = [];
    const stream = new GerritStream({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      username: 'ost-gate',
      privateKey: userKey.private,
      // the key of another server: a man in the middle, or a moved Gerrit
      hostKey: hostKeyLine(parseableKeyPair().public),
      handle: async (e) => void seen.push(e),
      minBackoffMs: 5_000,
      log,
    });
    stream.start();
    try {
      for (let i = 0; i < 1000 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(lines.join('')).toContain('Gerrit SSH host key does not match GERRIT_SSH_HOST_KEY; not connecting');
      expect(JSON.parse(lines[0]!).seen).toMatch(/^SHA256:/);
      expect(authenticated).toBe(0);
      expect(seen).toEqual([]);
    } finally {
      stream.stop();
      server.close();
    }
  }, 20_000);
});
