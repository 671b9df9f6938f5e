// `ost-gate serve` configured for Gerrit and Jenkins: the pieces report themselves, and the events
// endpoint is mounted behind its token.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/serve.ts';
import { configRules } from '../../src/registry.ts';

describe('serve with Gerrit and Jenkins', () => {
  it('mounts /gerrit/events behind GERRIT_EVENTS_TOKEN and reports the configured pieces', async () => {
    const env = {
      OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-sg-')),
      GERRIT_URL: 'https://gerrit.invalid',
      GERRIT_USERNAME: 'ost-gate',
      GERRIT_PASSWORD: 'pw',
      GERRIT_EVENTS_TOKEN: 'tok',
      JENKINS_URL: 'https://jenkins.invalid',
      OST_CALLBACK_SECRET: 'cb',
    };
    const server = await startServer({ env, config: configRules.validateServer({}), log: silentLogger, port: 0 });
    try {
      const health = await (await fetch(`${server.url}/healthz`)).json();
      expect(health.components).toMatchObject({ gerrit: 'ok', jenkins: 'ok', callback: 'ok', github: 'off' });
      const res = await fetch(`${server.url}/gerrit/events`, { method: 'POST', body: '{"type":"ref-updated"}' });
      expect(res.status).toBe(401);
      const ok = await fetch(`${server.url}/gerrit/events?token=tok`, {
        method: 'POST',
        body: '{"type":"project-created"}',
      });
      expect(ok.status).toBe(202);
    } finally {
      await server.stop();
    }
  });

  it('refuses to read stream-events over SSH without the server host key, saying how to give it', async () => {
    const env = {
      OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-sg-')),
      GERRIT_URL: 'https://gerrit.invalid',
      GERRIT_USERNAME: 'ost-gate',
      GERRIT_PASSWORD: 'secret',
      GERRIT_SSH: '127.0.0.1:29418',
      GERRIT_SSH_KEY_PATH: '/nonexistent',
    };
    await expect(
      startServer({ env, config: configRules.validateServer({}), log: silentLogger, port: 0 }),
    ).rejects.toThrow(
      /GERRIT_SSH_HOST_KEY is not: set it to the server's key fingerprint .* or set GERRIT_SSH_INSECURE_ANY_HOST_KEY=1/,
    );
  });

  it('refuses to start with GERRIT_URL but no credentials, naming them', async () => {
    const env = { OST_DATA_DIR: await mkdtemp(join(tmpdir(), 'ost-sg-')), GERRIT_URL: 'https://gerrit.invalid' };
    await expect(
      startServer({ env, config: configRules.validateServer({}), log: silentLogger, port: 0 }),
    ).rejects.toThrow(/^GERRIT_URL is set but GERRIT_USERNAME and GERRIT_PASSWORD are not both set: set them to/);
  });
});
