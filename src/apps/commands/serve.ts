/**
 * `pvsync serve`: the ChannelFinder-compatible API server. Follows etcd with one mirror into an in-memory directory
 * and answers from memory; any number of replicas can serve the same cluster.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { BplClient } from '../../adapters/archiver-bpl/bpl-client.js';
import { demoAuthFile, mergeAuthFiles } from '../../adapters/auth/authenticator.js';
import { EtcdArchiverService } from '../../adapters/etcd/archiver-ops.js';
import { TimelineReader } from '../../adapters/etcd/archiver-timeline.js';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { DEFAULT_BODY_LIMIT } from '../../adapters/http/app.js';
import { DEFAULT_TARPIT } from '../../adapters/http/tarpit.js';
import { DEFAULT_WRITE_WAIT_MS } from '../../adapters/http/write-executor.js';
import type { AuthFile } from '../../core/auth/principal.js';
import { PvsError } from '../../core/errors.js';
import { Keyspace, ROOT } from '../../core/keyspace.js';
import { DEFAULT_MAX_LAG_MS, createApiRuntime, mirrorHealth } from '../api-runtime.js';
import { DEFAULT_REPLICA_MAX_LAG_S, installationServe, type InstallationServe } from '../installation-serve.js';
import { etcdOf, installationsPath, loadInstallations, ownInstallation } from '../installations-file.js';
import { rootLogger } from '../logger.js';
import { COUNT, PORT, POSITIVE_SECONDS, listOption, numberOption, type ValueRule } from '../option-values.js';
import { resolveEtcd, resolveRoot, withEndpoints, withRoot, type SecurityFlags } from '../options.js';
import { loadAuthFile } from '../config-files.js';

interface ServeOptions extends SecurityFlags {
  archiverGroup: string;
  port: number;
  host: string;
  owner: string;
  infoTags: readonly string[];
  envProperties?: readonly string[];
  maxSize: number;
  defaultSize: number;
  authFile?: string;
  demoAuth?: boolean;
  bodyLimit: number;
  writeWaitMs: number;
  loginAttempts: number;
  refusalHoldMs: number;
  maxWatches: number;
  maxWatchesPerClient: number;
  shutdownGraceMs: number;
  endpoints?: readonly string[];
  root?: string;
  maxLag: number;
  installations?: string;
  installation?: string;
  replicaMaxLag: number;
  forwardWrites: boolean;
  maxInFlight: number;
  watchHeartbeat: number;
}

const VERSION = '0.1.0';
const MS_AT_LEAST_1: ValueRule = { kind: 'ms', min: 1 };
const MS_AT_LEAST_0: ValueRule = { kind: 'ms', min: 0 };

/** dist/console of this package (built by `npm run build`), or null when it is not there. */
function builtConsole(): string | null {
  const dir = fileURLToPath(new URL('../../../dist/console/', import.meta.url));
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

/** Register `pvsync serve` on the program. */
export function register(program: Command): void {
  const cmd = program.command('serve')
    .description('serve the ChannelFinder REST API from a live mirror of etcd')
    .addOption(numberOption('--port <port>', 'TCP port', PORT, { fallback: 8080, env: 'PVSYNC_PORT' }))
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--owner <name>', 'owner of channels derived from IOCs', 'pvsync')
    .addOption(listOption('--info-tags <list>', 'info tags published as properties, comma-separated', { fallback: ['archive'] }))
    .addOption(listOption('--env-properties <list>', 'IOC environment variables published as properties, VAR=property comma-separated (the recceiver\'s environment_vars)'))
    .addOption(numberOption('--max-size <n>', 'largest ~size a query may ask for (the result ceiling)', COUNT, { fallback: 1_000_000 }))
    .addOption(numberOption('--default-size <n>', 'page size when a query has no ~size (upstream: 10 000); at most --max-size', COUNT, { fallback: 10_000 }))
    .option('--auth-file <path>', 'users allowed to write: YAML/JSON with scrypt hashes (env PVSYNC_AUTH_FILE)', process.env['PVSYNC_AUTH_FILE'])
    .addOption(numberOption('--max-lag <seconds>', '/healthz answers 503 when the mirror is not proven current with etcd for this long', POSITIVE_SECONDS, { fallback: DEFAULT_MAX_LAG_MS / 1000 }))
    .option('--archiver-group <name>', 'archiver group served at /api/v1/archiver and /archiver/*', 'default')
    .option('--demo-auth', "enable ChannelFinder's demo users admin/adminPass (ADMIN) and user/userPass (USER)", false)
    .addOption(numberOption('--body-limit <bytes>', 'largest request body (a 10 000-channel PUT of the recceiver is ~10 MB)', COUNT, { fallback: DEFAULT_BODY_LIMIT }))
    .addOption(numberOption('--write-wait-ms <ms>', 'longest a write waits to show in this replica, then 503 (the write stays committed)', MS_AT_LEAST_1, { fallback: DEFAULT_WRITE_WAIT_MS }))
    .addOption(numberOption('--login-attempts <n>', 'password checks (failed logins) allowed per client address per minute, then 429', COUNT, { fallback: 10 }))
    .addOption(numberOption('--refusal-hold-ms <ms>', 'how long a 429 for too many password checks or watch streams is held before it is sent, so that a flood waits for its answers (0: at once)', MS_AT_LEAST_0, { fallback: DEFAULT_TARPIT.holdMs }))
    .addOption(numberOption('--max-watches <n>', 'watch streams (SSE) open at once in total, then 429', COUNT, { fallback: 1000 }))
    .addOption(numberOption('--max-watches-per-client <n>', 'watch streams open at once per client address, then 429', COUNT, { fallback: 16 }))
    .addOption(numberOption('--watch-heartbeat <seconds>', 'interval of the watch streams\' progress events (a client takes a silent stream as lost)', POSITIVE_SECONDS, { fallback: 15 }))
    .addOption(numberOption('--shutdown-grace-ms <ms>', 'on SIGTERM/SIGINT, longest to wait for requests in flight (writes wait up to --write-wait-ms) before exiting anyway (exit 1)', MS_AT_LEAST_1, { fallback: 10_000 }));
  cmd.option('--installations <file>', 'installations file: serve this installation\'s data and its replicas (env PVSYNC_INSTALLATIONS)')
    .option('--installation <name>', 'which installation of --installations this server belongs to (env PVSYNC_INSTALLATION)')
    .addOption(numberOption('--replica-max-lag <seconds>', 'a replica held here not proven current with its primary for this long is reported stale (/api/v1/installations)', POSITIVE_SECONDS, { fallback: DEFAULT_REPLICA_MAX_LAG_S }))
    .addOption(numberOption('--max-in-flight <n>', 'requests served at once (watch streams aside) past which new ones get 503 with Retry-After', COUNT, { fallback: 2000 }))
    .option('--no-forward-writes', 'at a secondary, refuse writes of replicated data (409 PVS_NOT_PRIMARY) instead of forwarding them to the primary');
  withRoot(withEndpoints(cmd)).action(async (opts: ServeOptions) => runServe(opts));
}

async function runServe(opts: ServeOptions): Promise<void> {
  const { port, maxSize, defaultSize, maxLag, bodyLimit, writeWaitMs, loginAttempts, maxWatches, maxWatchesPerClient } = opts;
  const graceMs = opts.shutdownGraceMs;
  if (defaultSize > maxSize) {
    throw new PvsError('PVS_CONFIG', `--default-size must be at most --max-size (${maxSize}), got ${defaultSize}`);
  }
  const maxInFlight = opts.maxInFlight;
  let auth: AuthFile | undefined = opts.authFile === undefined ? undefined : await loadAuthFile(opts.authFile);
  if (opts.demoAuth === true) auth = mergeAuthFiles(await demoAuthFile(), auth ?? { users: {} });
  const log = rootLogger('pvsync-serve');
  const instFile = installationsPath(opts.installations);
  const cfg = instFile === undefined ? undefined : loadInstallations(instFile);
  const self = cfg === undefined || instFile === undefined ? undefined : ownInstallation(cfg, instFile, opts.installation);
  // With an installations file its etcd and root are the installation's unless --endpoints/--root say otherwise.
  const { endpoints, security } = self !== undefined && opts.endpoints === undefined && process.env['PVSYNC_ENDPOINTS'] === undefined
    ? etcdOf(self) : resolveEtcd(opts);
  const keys = new Keyspace(resolveRoot(opts.root, self?.etcd.root ?? ROOT));
  const client = createEtcdClient(endpoints, { log, ...(security === undefined ? {} : { security }) });
  const multi: InstallationServe | undefined = cfg === undefined || self === undefined
    ? undefined : installationServe(cfg, self, client, keys, log, opts.forwardWrites, opts.replicaMaxLag);

  // At a secondary of the archiver groups, their status and timeline are read from the replica of their primary.
  const archiverRoot = multi?.archiverRoot ?? keys.root;
  const timelines = new TimelineReader(client, archiverRoot);
  const consoleRoot = builtConsole();
  if (consoleRoot === null) log.warn({}, 'the operator console is not built (npm run build): / and /console/ answer 404');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runtime = createApiRuntime({
    client, keys, log, registry, httpLogger: log.child({ component: 'http' }),
    owner: opts.owner, infoWhitelist: [...opts.infoTags],
    ...(opts.envProperties === undefined ? {} : { envProperties: envPropertyMap(opts.envProperties) }),
    limits: { defaultSize, maxSize },
    // Archiver HA over HTTP: status, switchover (ADMIN), and /archiver/* redirected to the active node.
    archiver: {
      service: new EtcdArchiverService(client, archiverRoot), defaultGroup: opts.archiverGroup,
      timeline: (group) => timelines.read(group),
      // The console's archived PVs: a page of names asked of the active appliance, with a short deadline.
      appliance: (mgmt) => new BplClient(mgmt, { timeoutMs: 3000 }),
    },
    ...(consoleRoot === null ? {} : { consoleRoot }),
    maxInFlight, bodyLimit, writeWaitMs, loginLimit: { max: loginAttempts, windowMs: 60_000 }, refusalHoldMs: opts.refusalHoldMs, maxWatches, maxWatchesPerClient,
    heartbeatMs: opts.watchHeartbeat * 1000,
    ...(auth === undefined ? {} : { auth }),
    ...(multi === undefined ? {} : { installations: { decode: multi.decode, routes: multi.routes } }),
    serviceInfo: (mirror) => ({
      version: VERSION,
      backend: () => ({ status: mirror.ready ? 'Connected' : 'Disconnected', clusterName: 'etcd', version: 'etcd 3.4' }),
    }),
    health: (mirror, directory) => {
      const m = mirrorHealth(mirror, client, maxLag * 1000);
      return {
        ok: m.ok, etcd: { endpoints, watching: mirror.ready }, revision: mirror.revision, mirror: m.mirror,
        channels: directory.size, relists: mirror.relists, rejectedValues: mirror.rejected,
        // The replicas held here keep answering while their primary is away: how stale each is.
        ...(multi === undefined || self === undefined ? {} : { installation: self.name, replicas: multi.health() }),
      };
    },
  });
  const { app, mirror, directory } = runtime;
  if (auth === undefined) log.warn({}, 'no --auth-file and no --demo-auth: every write is refused (401)');
  else log.info({ users: Object.keys(auth.users).length, demo: opts.demoAuth === true }, 'writes enabled');

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    // Every wait inside is bounded, but a peer that never reads could hold a socket: cut everything after the grace.
    setTimeout(() => {
      log.error({ graceMs }, 'requests still open after the shutdown grace: exiting anyway');
      app.server.closeAllConnections();
      process.exit(1);
    }, graceMs).unref();
    void (async () => {
      try {
        multi?.status.stop();
        await runtime.close(); // ends watch streams, finishes requests in flight, stops the mirror
      } catch (err) {
        log.error({ err }, 'error while shutting down');
      }
      client.close();
      log.info({ signal }, 'stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  log.info({ endpoints, root: keys.root }, 'loading snapshot');
  await multi?.status.start();
  await runtime.start(); // the mirror, then the watch journal extended back in the background
  log.info({ revision: mirror.revision, channels: directory.size }, 'directory ready');
  await app.listen({ port, host: opts.host });
  log.info({ port, host: opts.host }, 'listening');
}

/** `ENGINEER=Engineer,LOCATION=Location` → a map; a malformed entry is a PVS_CONFIG error naming it. */
function envPropertyMap(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(item);
    if (m === null) throw new PvsError('PVS_CONFIG', `--env-properties: expected VAR=property, got ${JSON.stringify(item)}`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
