// The Gerrit host from the environment: on when GERRIT_URL is set. Events come to /gerrit/events
// (the webhooks plugin, with GERRIT_EVENTS_TOKEN) and, with GERRIT_SSH, over `gerrit stream-events`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayUrl } from '../../http/url.ts';
import { SetupError } from '../../config/setup-error.ts';
import { hostDeps } from '../common/host-deps.ts';
import type { HostFactory } from '../types.ts';
import { gerritConfigPart } from './config.ts';
import { gerritChangeLabel, parseEvent } from './events.ts';
import { EVENTS_PATH } from './intake.ts';
import type { GerritStream } from './stream.ts';

const DEFAULT_SSH_PORT = 29418;

export const gerritHostFactory: HostFactory = {
  id: 'gerrit',
  config: gerritConfigPart,
  howToEnable: 'set GERRIT_URL, GERRIT_USERNAME, GERRIT_PASSWORD and GERRIT_EVENTS_TOKEN',
  async create(ctx) {
    const { env, log, dataDir } = ctx;
    if (!env.GERRIT_URL) return null;
    if (!env.GERRIT_USERNAME || !env.GERRIT_PASSWORD)
      throw new SetupError(
        "GERRIT_URL is set but GERRIT_USERNAME and GERRIT_PASSWORD are not both set: set them to the service user's name and HTTP password",
      );
    // the host's modules (ssh2 among them) are loaded only for a server that runs it
    const [{ GerritClient }, { GerritHost }, { GerritReporter }, { GerritStream }, { GerritReverter }] =
      await Promise.all([
        import('./client.ts'),
        import('./host.ts'),
        import('./reporter.ts'),
        import('./stream.ts'),
        import('./revert.ts'),
      ]);
    const client = new GerritClient({
      url: env.GERRIT_URL,
      username: env.GERRIT_USERNAME,
      password: env.GERRIT_PASSWORD,
    });
    const host = new GerritHost({
      ...hostDeps(ctx),
      client,
      eventsToken: env.GERRIT_EVENTS_TOKEN,
      serviceUser: env.GERRIT_USERNAME,
      // on PostgreSQL an event is answered once it is in the database (the journal, or the inbox of
      // the replica that writes): a replica's own disk holds nothing that matters, and during an outage
      // of the database the plugin gets a 503 and delivers the event again
      ...(env.OST_DATABASE_URL ? {} : { inboxDir: join(dataDir, 'gerrit-inbox') }),
    });
    let stream: GerritStream | null = null;
    if (env.GERRIT_SSH) {
      const [sshHost, sshPort] = env.GERRIT_SSH.split(':');
      if (!env.GERRIT_SSH_KEY_PATH)
        throw new SetupError(
          "GERRIT_SSH is set but GERRIT_SSH_KEY_PATH is not: set it to the service user's SSH private key file",
        );
      const insecure = env.GERRIT_SSH_INSECURE_ANY_HOST_KEY === '1';
      if (!env.GERRIT_SSH_HOST_KEY && !insecure)
        throw new SetupError(
          "GERRIT_SSH is set but GERRIT_SSH_HOST_KEY is not: set it to the server's key fingerprint " +
            '(ssh-keygen -lf, "SHA256:...") or public key line, or set GERRIT_SSH_INSECURE_ANY_HOST_KEY=1 to accept any',
        );
      stream = new GerritStream({
        host: sshHost!,
        port: Number(sshPort ?? DEFAULT_SSH_PORT),
        username: env.GERRIT_SSH_USER ?? env.GERRIT_USERNAME ?? 'ost-gate',
        privateKey: await readFile(env.GERRIT_SSH_KEY_PATH).catch((err: NodeJS.ErrnoException) => {
          throw new SetupError(
            `GERRIT_SSH_KEY_PATH=${env.GERRIT_SSH_KEY_PATH} cannot be read (${err.code}): ` +
              "point it at the service user's SSH private key, readable by this user",
          );
        }),
        hostKey: env.GERRIT_SSH_HOST_KEY ?? null,
        handle: (event) => host.handle(event),
        catchUp: async (since) => (await client.eventsSince(since))?.flatMap((e) => parseEvent(e) ?? []) ?? null,
        log,
      });
    }
    const events = env.GERRIT_EVENTS_TOKEN ? '' : ' (disabled until GERRIT_EVENTS_TOKEN is set)';
    return {
      id: 'gerrit',
      reporter: new GerritReporter(client, log),
      reverter: new GerritReverter(client, log),
      changeLabel: gerritChangeLabel,
      mount: host.mount,
      summary: `Gerrit at ${displayUrl(env.GERRIT_URL)}; events at ${EVENTS_PATH}${events}${stream ? `, and over SSH from ${env.GERRIT_SSH}` : ''}`,
      async start() {
        await host.start();
      },
      async startSources() {
        stream?.start();
      },
      stopSources() {
        stream?.stop();
      },
      stop() {
        stream?.stop();
      },
    };
  },
};
