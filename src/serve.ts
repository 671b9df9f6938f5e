// Wires the server together from the environment and the server config: store, engine, the CI
// dispatchers and code hosts from their registries, the HTTP server and the ticker. It knows no host
// or CI by name. `ost-gate serve` and the demo both start it here.
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ciFactories } from './ci/index.ts';
import type { ServerConfig } from './config/server.ts';
import type { Dispatcher, Reporter } from './engine/effects.ts';
import { Engine } from './engine/engine.ts';
import { RoutingPerformer } from './engine/performer.ts';
import { hostFactories, type Host } from './hosts/index.ts';
import type { Mount } from './http/mount.ts';
import { displayUrl } from './http/url.ts';
import type { Logger } from './log.ts';
import { defaultLabel, type ChangeLabeler } from './report/model.ts';
import { claimDataDir, type DataDirOwnership } from './store/data-dir-owner.ts';
import { LowdbStore } from './store/lowdb-store.ts';
import { checkDataDir, checkRunnerPrograms, listenAddress } from './startup/checks.ts';
import { SetupError } from './config/setup-error.ts';
import { Metrics } from './web/metrics.ts';
import { createHttpServer } from './web/server.ts';

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
  hosts: Host[];
  stop(): Promise<void>;
}

/** A listen error as the one line a person needs. */
function listenProblem(err: NodeJS.ErrnoException, at: { port: number; host: string }): Error {
  if (err.code === 'EADDRINUSE')
    return new SetupError(
      `PORT=${at.port} on HOST=${at.host} is in use by another process: stop it, or set PORT to a free port`,
    );
  if (err.code === 'EACCES')
    return new SetupError(
      `PORT=${at.port} needs privileges this user lacks: use a port above 1023 and a reverse proxy in front`,
    );
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
    return new SetupError(
      `HOST=${at.host} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0`,
    );
  return err;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const { env, config, log } = opts;
  const dataDir = resolve(env.OST_DATA_DIR ?? './data');
  // mistakes a person makes at set-up stop the server here, each with one line (startup/checks.ts)
  const listen = { ...listenAddress(env), ...(opts.port !== undefined ? { port: opts.port } : {}) };
  if (opts.host) listen.host = opts.host;
  await checkDataDir(dataDir);
  await checkRunnerPrograms(config, env);
  // one server per data directory: a second one is refused here (store/data-dir-owner.ts)
  const owner = await claimDataDir(dataDir, log);
  try {
    return await startOn(dataDir, listen, owner, opts);
  } catch (err) {
    await owner.release().catch(() => undefined);
    throw err;
  }
}

/** The server on a data directory this process owns, listening at `listen`. */
async function startOn(
  dataDir: string,
  listen: { port: number; host: string },
  owner: DataDirOwnership,
  opts: StartOptions,
): Promise<RunningServer> {
  const { env, config, log } = opts;
  const publicUrl = env.OST_PUBLIC_URL?.replace(/\/+$/, '');
  const callbackUrl = publicUrl ? `${publicUrl}/api/ci/callback` : undefined;
  const store = new LowdbStore(dataDir);
  const components: Record<string, string> = {};
  const say = (component: string, status: string, message: string) => {
    components[component] = status;
    log.info({ component, status }, message);
  };
  say('store', 'ok', `data directory ${dataDir} (one JSON file per queue under queues/)`);

  // filled below: the performer routes to them by provider and by host
  const dispatchers: Record<string, Dispatcher> = { ...opts.dispatchers };
  const reporters: Record<string, Reporter> = { ...opts.reporters };
  const labels: Record<string, ChangeLabeler> = {};
  const performer = new RoutingPerformer({ dispatchers, reporters, labels, publicUrl, log });
  let engineRef: Engine | null = null;
  const metrics = new Metrics(() => engineRef);
  const engine = new Engine({ store, performer, log, observer: metrics.observe });
  engineRef = engine;

  const stoppers: (() => Promise<void> | void)[] = [];
  const ciContext = { env, config, log, dataDir, runLogPath: (k: string) => store.runLogPath(k), callbackUrl };
  for (const factory of ciFactories) {
    const ci = factory.create(ciContext);
    say(factory.id, ci ? 'ok' : 'off', ci ? ci.summary : `${factory.id}: not configured; ${factory.howToEnable}`);
    if (!ci) continue;
    Object.assign(dispatchers, ci.dispatchers);
    if (ci.stop) stoppers.push(() => ci.stop!());
  }
  const hosts: Host[] = [];
  const hostContext = { env, config, engine, log, dataDir, publicUrl, providers: () => Object.keys(dispatchers) };
  for (const factory of hostFactories) {
    const host = await factory.create(hostContext);
    say(factory.id, host ? 'ok' : 'off', host ? host.summary : `${factory.id}: not configured; ${factory.howToEnable}`);
    if (!host) continue;
    hosts.push(host);
    reporters[host.id] ??= host.reporter;
    labels[host.id] = host.changeLabel;
    Object.assign(dispatchers, host.dispatchers ?? {});
    if (host.stop) stoppers.push(() => host.stop!());
  }
  const callback = env.OST_CALLBACK_SECRET
    ? `CI callback enabled at /api/ci/callback (signed with OST_CALLBACK_SECRET)`
    : 'CI callback disabled; set OST_CALLBACK_SECRET to accept results at /api/ci/callback';
  say('callback', env.OST_CALLBACK_SECRET ? 'ok' : 'off', callback);
  const providers = Object.keys(dispatchers);
  say('dispatchers', providers.length ? 'ok' : 'off', `CI providers: ${providers.join(', ') || 'none'}`);

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
    mounts: hosts.flatMap((h): Mount[] => (h.mount ? [h.mount] : [])),
    labelOf: (c) => labels[c.host]?.(c) ?? defaultLabel(c),
    metrics,
    history: (q, n) => store.readHistory(q, n),
    historyPage: (q, before, n) => store.readHistoryPage(q, before, n),
    runLog: (key) => readFile(store.runLogPath(key), 'utf8').catch(() => null),
    dashboardToken: env.OST_DASHBOARD_TOKEN,
    metricsToken: env.OST_METRICS_TOKEN ?? env.OST_DASHBOARD_TOKEN,
    adminToken: env.OST_ADMIN_TOKEN,
    ...(env.OST_DASHBOARD_REFRESH_MS ? { refreshMs: Number(env.OST_DASHBOARD_REFRESH_MS) } : {}),
  });
  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(listen.port, listen.host, () => ok());
    });
  } catch (err) {
    for (const stop of stoppers) await stop();
    throw listenProblem(err as NodeJS.ErrnoException, listen);
  }
  const address = server.address() as AddressInfo;
  const url = publicUrl ?? `http://${address.address}:${address.port}`;
  log.info({ url: displayUrl(url) }, `ost-gate listening on ${displayUrl(url)}`);
  for (const host of hosts) await host.start?.();
  const tick = () => void engine.tick().catch((err) => log.error({ err: (err as Error).message }, 'tick failed'));
  const ticker = setInterval(tick, config.tick);

  return {
    url,
    engine,
    store,
    hosts,
    async stop() {
      clearInterval(ticker);
      for (const stop of stoppers) await stop();
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections?.();
      await engine.close();
      await owner.release();
    },
  };
}
