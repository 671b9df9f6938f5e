// Wires the server together from the environment and the server config: store, engine, the CI
// dispatchers and code hosts from their registries, the HTTP server and the ticker. It knows no host
// or CI by name. `ost-gate serve` and the demo both start it here.
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { checkRunnerKinds, ciFactories, type CiContext } from './ci/index.ts';
import type { ConfigRules } from './config/rules.ts';
import type { ServerConfig } from './config/server.ts';
import type { Dispatcher, Reporter, Reverter } from './engine/effects.ts';
import type { Effect } from './core/index.ts';
import { plannedReverts } from './revert/plan.ts';
import { Engine } from './engine/engine.ts';
import { notifySetup } from './notify/setup.ts';
import { RoutingPerformer } from './engine/performer.ts';
import { hostFactories, type Host, type HostContext } from './hosts/index.ts';
import type { Mount } from './http/mount.ts';
import { displayUrl } from './http/url.ts';
import type { Logger } from './log.ts';
import { labelerOf, type ChangeLabeler } from './report/model.ts';
import { claimDataDir, type DataDirOwnership } from './store/data-dir-owner.ts';
import { openStore, type OpenedStore } from './store/open.ts';
import { engineRole, ReplicaWork } from './replica-work.ts';
import type { QueueFile, Store } from './store/types.ts';
import { checkDataDir, listenAddress } from './startup/checks.ts';
import { configRules } from './registry.ts';
import { SetupError } from './config/setup-error.ts';
import { Metrics } from './web/metrics.ts';
import { createHttpServer, type ServerOptions } from './web/server.ts';

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  config: ServerConfig;
  log: Logger;
  port?: number;
  host?: string;
  /** Extra reporters and dispatchers (tests). */
  reporters?: Record<string, Reporter>;
  dispatchers?: Record<string, Dispatcher>;
  /** How configs are read; by default the rules of every runner kind and host (registry.ts). */
  rules?: ConfigRules;
}

export interface RunningServer {
  url: string;
  engine: Engine;
  store: Store;
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
  await checkRunnerKinds(config, env);
  // one server per data directory: a second one is refused here (store/data-dir-owner.ts)
  const owner = await claimDataDir(dataDir, log);
  try {
    return await startOn(dataDir, listen, owner, opts);
  } catch (err) {
    await owner.release().catch(() => undefined);
    throw err;
  }
}

/** What the server is wired from as its parts start: the routes of the performer, and what to stop. */
interface Wiring {
  dispatchers: Record<string, Dispatcher>;
  reporters: Record<string, Reporter>;
  reverters: Record<string, Reverter>;
  labels: Record<string, ChangeLabeler>;
  stoppers: (() => Promise<void> | void)[];
  /** Each part's status for /healthz, with a line in the log. */
  say: (component: string, status: string, message: string) => void;
}

/** Starts the CI runner kinds that have their own factory; their dispatchers join the wiring. */
function startRunners(wiring: Wiring, ctx: CiContext): void {
  for (const factory of ciFactories) {
    const ci = factory.create(ctx);
    wiring.say(
      factory.id,
      ci ? 'ok' : 'off',
      ci ? ci.summary : `${factory.id}: not configured; ${factory.howToEnable}`,
    );
    if (!ci) continue;
    Object.assign(wiring.dispatchers, ci.dispatchers);
    if (ci.stop) wiring.stoppers.push(() => ci.stop!());
  }
}

/** Creates the code hosts the environment configures; their reporters, labels and dispatchers join the wiring. */
async function startHosts(wiring: Wiring, ctx: HostContext): Promise<Host[]> {
  const hosts: Host[] = [];
  for (const factory of hostFactories) {
    const host = await factory.create(ctx);
    const summary = host ? host.summary : `${factory.id}: not configured; ${factory.howToEnable}`;
    wiring.say(factory.id, host ? 'ok' : 'off', summary);
    if (!host) continue;
    hosts.push(host);
    wiring.reporters[host.id] ??= host.reporter;
    if (host.reverter) wiring.reverters[host.id] ??= host.reverter;
    wiring.labels[host.id] = host.changeLabel;
    Object.assign(wiring.dispatchers, host.dispatchers ?? {});
    if (host.stop) wiring.stoppers.push(() => host.stop!());
  }
  return hosts;
}

/** The server on a data directory this process owns, listening at `listen`. */
async function startOn(
  dataDir: string,
  listen: { port: number; host: string },
  owner: DataDirOwnership,
  opts: StartOptions,
): Promise<RunningServer> {
  const { env, log } = opts;
  const components: Record<string, string> = {};
  const wiring: Wiring = {
    dispatchers: { ...opts.dispatchers },
    reporters: { ...opts.reporters },
    reverters: {},
    labels: {},
    stoppers: [],
    say(component, status, message) {
      components[component] = status;
      log.info({ component, status }, message);
    },
  };
  const opened = await openStore({ env, dataDir, log });
  try {
    return await startWith(opened, { dataDir, listen, owner, wiring, components }, opts);
  } catch (err) {
    await opened.close().catch(() => undefined);
    throw err;
  }
}

/** The server on its opened store. */
async function startWith(
  opened: OpenedStore,
  parts: {
    dataDir: string;
    listen: { port: number; host: string };
    owner: DataDirOwnership;
    wiring: Wiring;
    components: Record<string, string>;
  },
  opts: StartOptions,
): Promise<RunningServer> {
  const { env, config, log } = opts;
  const { dataDir, listen, owner, wiring, components } = parts;
  const { store, replica, inbox } = opened;
  const publicUrl = env.OST_PUBLIC_URL?.replace(/\/+$/, '');
  const callbackUrl = publicUrl ? `${publicUrl}/api/ci/callback` : undefined;
  wiring.say('store', 'ok', opened.summary);
  const { dispatchers, reporters, reverters, labels, stoppers } = wiring;
  const notify = notifySetup({ env, config, log, labels, publicUrl });
  wiring.say('notify', notify ? 'ok' : 'off', notify?.summary ?? 'no email: or channels: in the server config');
  if (notify) stoppers.push(notify.stop);
  const messages = notify?.delivery;
  const performer = new RoutingPerformer({ dispatchers, reporters, reverters, labels, publicUrl, log, messages });
  let engineRef: Engine | null = null;
  const metrics = new Metrics(() => engineRef);
  // on PostgreSQL, a queue is stepped by the replica that holds its lease; the others store what they accept for it
  const role = replica && inbox ? engineRole(replica, inbox) : undefined;
  // mails, chat messages and reverts are decided with the step that names the verdict, and journaled with it
  const moreEffects = (file: QueueFile, effects: readonly Effect[]) => [
    ...(notify?.plan(file, effects) ?? []),
    ...plannedReverts(file, effects),
  ];
  const engine = new Engine({
    store,
    performer,
    log,
    observer: metrics.observe,
    ...(role ? { role } : {}),
    moreEffects,
  });
  engineRef = engine;

  startRunners(wiring, { env, config, log, dataDir, keepRunLog: (k, text) => store.keepRunLog(k, text), callbackUrl });
  const providers = () => Object.keys(dispatchers);
  const rules = opts.rules ?? configRules;
  // with a shared database, what a host accepts must be in the database before its answer
  const diskInbox = !replica;
  const hosts = await startHosts(wiring, { env, config, engine, rules, log, dataDir, diskInbox, publicUrl, providers });
  sayEndpoints(wiring, env, providers());

  const part = replica ? () => replica.summary() : undefined;
  const server = httpServerFor({ env, engine, log, store, components, hosts, labels, metrics, part });
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
  const say = (status: string, message: string) => wiring.say('store', status, message);
  const work = new ReplicaWork({ engine, hosts, log, tickMs: config.tick, say });
  if (replica && inbox) await work.startReplica(replica, inbox);
  else await work.startAlone();

  return {
    url,
    engine,
    store,
    hosts,
    async stop() {
      await work.close();
      for (const stop of stoppers) await stop();
      await new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections?.();
      await engine.close();
      await opened.close();
      await owner.release();
    },
  };
}

/** The HTTP server: the dashboard, API, callback and health, and the hosts' endpoints. */
function httpServerFor(parts: {
  env: NodeJS.ProcessEnv;
  engine: Engine;
  log: Logger;
  store: Store;
  components: Record<string, string>;
  hosts: Host[];
  labels: Record<string, ChangeLabeler>;
  metrics: Metrics;
  part: ServerOptions['replica'];
}) {
  const { env, engine, log, store, components, hosts, labels, metrics, part } = parts;
  return createHttpServer({
    engine,
    log,
    callbackSecret: env.OST_CALLBACK_SECRET,
    components,
    ...(part ? { replica: part } : {}),
    mounts: hosts.flatMap((h): Mount[] => (h.mount ? [h.mount] : [])),
    labelOf: labelerOf(labels),
    metrics,
    history: (q, n) => store.readHistory(q, n),
    historyPage: (q, before, n) => store.readHistoryPage(q, before, n),
    runLog: (key) => store.readRunLog(key).catch(() => null),
    dashboardToken: env.OST_DASHBOARD_TOKEN,
    metricsToken: env.OST_METRICS_TOKEN ?? env.OST_DASHBOARD_TOKEN,
    adminToken: env.OST_ADMIN_TOKEN,
    ...(env.OST_DASHBOARD_REFRESH_MS ? { refreshMs: Number(env.OST_DASHBOARD_REFRESH_MS) } : {}),
  });
}

/** Says in the log and /healthz whether the CI callback is on, which providers there are, and who may see the dashboard. */
function sayEndpoints(wiring: Wiring, env: NodeJS.ProcessEnv, providers: string[]): void {
  const callback = env.OST_CALLBACK_SECRET
    ? `CI callback enabled at /api/ci/callback (signed with OST_CALLBACK_SECRET)`
    : 'CI callback disabled; set OST_CALLBACK_SECRET to accept results at /api/ci/callback';
  wiring.say('callback', env.OST_CALLBACK_SECRET ? 'ok' : 'off', callback);
  wiring.say('dispatchers', providers.length ? 'ok' : 'off', `CI providers: ${providers.join(', ') || 'none'}`);
  wiring.say(
    'dashboard',
    env.OST_DASHBOARD_TOKEN ? 'token' : 'open',
    env.OST_DASHBOARD_TOKEN
      ? 'dashboard and queue API need ?token=<OST_DASHBOARD_TOKEN>'
      : 'dashboard is read-only and open; set OST_DASHBOARD_TOKEN to require a token',
  );
}
