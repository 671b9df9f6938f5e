// Wires the server together from the environment and the server config: store, engine, CI runners,
// code hosts, the HTTP server and the ticker. `ost-gate serve` and the demo both start it here.
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CommandDispatcher } from './ci/command.ts';
import type { ServerConfig } from './config/server.ts';
import type { Dispatcher, Reporter } from './engine/effects.ts';
import { Engine } from './engine/engine.ts';
import { RoutingPerformer } from './engine/performer.ts';
import { GitReporter } from './hosts/git/reporter.ts';
import { createGithubHost } from './hosts/github/probot.ts';
import { GerritClient } from './hosts/gerrit/client.ts';
import { GerritHost } from './hosts/gerrit/host.ts';
import { GerritReporter } from './hosts/gerrit/reporter.ts';
import { GerritStream } from './hosts/gerrit/stream.ts';
import { parseEvent } from './hosts/gerrit/events.ts';
import { readFile } from 'node:fs/promises';
import { JenkinsDispatcher } from './ci/jenkins.ts';
import { WebhookDispatcher } from './ci/webhook.ts';
import type { Mount } from './web/server.ts';
import { GitWatcher } from './hosts/git/watcher.ts';
import type { Logger } from './log.ts';
import { LowdbStore } from './store/lowdb-store.ts';
import { createHttpServer } from './web/server.ts';
import { Metrics } from './web/metrics.ts';

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  log: Logger;
  port?: number;
  host?: string;
  /** Extra reporters and dispatchers (tests). */
  reporters?: Record<string, Reporter>;
  dispatchers?: Record<string, Dispatcher>;
}

export interface RunningServer {
  url: string;
  engine: Engine;
  store: LowdbStore;
  watchers: GitWatcher[];
  stop(): Promise<void>;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { env, config, log } = opts;
  const dataDir = resolve(env.OST_DATA_DIR ?? './data');
  const store = new LowdbStore(dataDir);
  const dispatchers: Record<string, Dispatcher> = { ...opts.dispatchers };
  const commands: CommandDispatcher[] = [];
  for (const [name, runner] of Object.entries(config.runners)) {
    const d = new CommandDispatcher(name, runner, {
      workRoot: join(dataDir, 'work'),
      logPath: (k) => store.runLogPath(k),
      log,
    });
    dispatchers[`command:${name}`] = d;
    commands.push(d);
  }
  const watchers: GitWatcher[] = [];
  const reporters: Record<string, Reporter> = { git: new GitReporter(watchers, log), ...opts.reporters };
  const performer = new RoutingPerformer({ dispatchers, reporters, log });
  let engineRef: Engine | null = null;
  const metrics = new Metrics(() => engineRef);
  const engine = new Engine({ store, performer, log, observer: metrics.observe });
  engineRef = engine;
  for (const repo of config.git) watchers.push(new GitWatcher(repo, engine, dataDir, log));
  const mounts: Mount[] = [];
  const stoppers: (() => void)[] = [];
  const callbackUrl = env.OST_PUBLIC_URL ? `${env.OST_PUBLIC_URL.replace(/\/+$/, '')}/api/ci/callback` : undefined;
  if (env.GERRIT_URL) {
    const client = new GerritClient({
      url: env.GERRIT_URL,
      username: env.GERRIT_USERNAME,
      password: env.GERRIT_PASSWORD,
    });
    const gerrit = new GerritHost({
      client,
      engine,
      log,
      eventsToken: env.GERRIT_EVENTS_TOKEN,
      serviceUser: env.GERRIT_USERNAME,
    });
    reporters.gerrit = new GerritReporter(client, log);
    mounts.push(gerrit.mount);
    if (env.GERRIT_SSH) {
      const [sshHost, sshPort] = env.GERRIT_SSH.split(':');
      if (!env.GERRIT_SSH_KEY_PATH)
        throw new Error("GERRIT_SSH is set but GERRIT_SSH_KEY_PATH (the service user's private key) is not");
      const stream = new GerritStream({
        host: sshHost!,
        port: Number(sshPort ?? 29418),
        username: env.GERRIT_SSH_USER ?? env.GERRIT_USERNAME ?? 'ost-gate',
        privateKey: await readFile(env.GERRIT_SSH_KEY_PATH),
        handle: (event) => gerrit.handle(event),
        catchUp: async (since) => (await client.eventsSince(since))?.flatMap((e) => parseEvent(e) ?? []) ?? null,
        log,
      });
      stream.start();
      stoppers.push(() => stream.stop());
    }
  }
  if (env.JENKINS_URL) {
    const jenkins = new JenkinsDispatcher({
      url: env.JENKINS_URL,
      user: env.JENKINS_USER,
      token: env.JENKINS_TOKEN,
      callbackUrl,
      log,
    });
    dispatchers.jenkins = jenkins;
    stoppers.push(() => jenkins.stop());
  }
  for (const [name, hook] of Object.entries(config.webhooks)) {
    const secret = env[hook.secret_env ?? 'OST_CALLBACK_SECRET'];
    if (!secret)
      throw new Error(`webhook runner ${name} needs a secret: set ${hook.secret_env ?? 'OST_CALLBACK_SECRET'}`);
    dispatchers[`webhook:${name}`] = new WebhookDispatcher({ url: hook.url, secret, callbackUrl });
  }
  if (env.APP_ID) {
    const github = await createGithubHost(env, { engine, log, publicUrl: env.OST_PUBLIC_URL });
    dispatchers['github-actions'] = github.dispatcher;
    reporters.github = github.reporter;
    mounts.push(github.mount);
  }

  const components: Record<string, string> = {};
  const say = (component: string, status: string, message: string) => {
    components[component] = status;
    log.info({ component, status }, message);
  };
  say('store', 'ok', `data directory ${dataDir} (one JSON file per queue under queues/)`);
  say(
    'github',
    env.APP_ID ? 'ok' : 'off',
    env.APP_ID
      ? `GitHub App ${env.APP_ID}: webhooks at /api/github/webhooks${env.GHE_HOST ? `, API at ${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3` : ''}`
      : 'GitHub: not configured; set APP_ID, PRIVATE_KEY (or PRIVATE_KEY_PATH) and WEBHOOK_SECRET to receive webhooks at /api/github/webhooks',
  );
  say(
    'gerrit',
    env.GERRIT_URL ? 'ok' : 'off',
    env.GERRIT_URL
      ? `Gerrit at ${env.GERRIT_URL}; events at /gerrit/events${env.GERRIT_EVENTS_TOKEN ? '' : ' (disabled until GERRIT_EVENTS_TOKEN is set)'}`
      : 'Gerrit: not configured; set GERRIT_URL, GERRIT_USERNAME, GERRIT_PASSWORD and GERRIT_EVENTS_TOKEN',
  );
  say(
    'jenkins',
    env.JENKINS_URL ? 'ok' : 'off',
    env.JENKINS_URL
      ? `Jenkins at ${env.JENKINS_URL}${callbackUrl ? `; jobs call back to ${callbackUrl}` : '; no OST_PUBLIC_URL, so results are read by polling'}`
      : 'Jenkins: not configured; set JENKINS_URL, JENKINS_USER and JENKINS_TOKEN',
  );
  say(
    'callback',
    env.OST_CALLBACK_SECRET ? 'ok' : 'off',
    env.OST_CALLBACK_SECRET
      ? 'CI callback enabled at /api/ci/callback (signed with OST_CALLBACK_SECRET)'
      : 'CI callback disabled; set OST_CALLBACK_SECRET to accept results at /api/ci/callback',
  );
  say(
    'runners',
    Object.keys(dispatchers).length ? 'ok' : 'off',
    Object.keys(dispatchers).length
      ? `CI runners: ${Object.keys(dispatchers).join(', ')}`
      : 'no command runners; declare them under runners: in OST_SERVER_CONFIG',
  );
  say(
    'git',
    config.git.length ? 'ok' : 'off',
    config.git.length
      ? `watching ${config.git.map((g) => `${g.name} (${g.url} ${g.branch})`).join(', ')}`
      : 'no git repos watched; list them under git: in OST_SERVER_CONFIG',
  );

  await engine.recover();
  say(
    'dashboard',
    env.OST_DASHBOARD_TOKEN ? 'token' : 'open',
    env.OST_DASHBOARD_TOKEN
      ? 'dashboard and queue API need ?token=<OST_DASHBOARD_TOKEN>'
      : 'dashboard is read-only and open; set OST_DASHBOARD_TOKEN to require a token',
  );
  const server = createHttpServer({
    engine,
    log,
    callbackSecret: env.OST_CALLBACK_SECRET,
    components,
    mounts,
    metrics,
    history: (q, n) => store.readHistory(q, n),
    dashboardToken: env.OST_DASHBOARD_TOKEN,
    ...(env.OST_DASHBOARD_REFRESH_MS ? { refreshMs: Number(env.OST_DASHBOARD_REFRESH_MS) } : {}),
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? Number(env.PORT ?? 3000), opts.host ?? env.HOST ?? '127.0.0.1', () => ok());
  });
  const address = server.address() as AddressInfo;
  const url = env.OST_PUBLIC_URL ?? `http://${address.address}:${address.port}`;
  log.info({ url }, `ost-gate listening on ${url}`);
  for (const w of watchers) await w.start();
  const ticker = setInterval(
    () => void engine.tick().catch((err) => log.error({ err: (err as Error).message }, 'tick failed')),
    config.tick,
  );

  return {
    url,
    engine,
    store,
    watchers,
    async stop() {
      clearInterval(ticker);
      for (const stop of stoppers) stop();
      for (const w of watchers) w.stop();
      await Promise.all(commands.map((c) => c.stopAll()));
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections?.();
      await engine.idle();
    },
  };
}
