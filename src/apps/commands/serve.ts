/**
 * `pvsync serve`: the ChannelFinder-compatible API server. Follows etcd with one mirror into an in-memory directory
 * and answers from memory; any number of replicas can serve the same cluster.
 */
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { demoAuthFile, loadAuthFile, mergeAuthFiles } from '../../adapters/auth/authenticator.js';
import { EtcdArchiverService } from '../../adapters/etcd/archiver-ops.js';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { archiverRoutes } from '../../adapters/http/archiver-routes.js';
import { requireRole, type AuthFile } from '../../core/auth/principal.js';
import { PvsError } from '../../core/errors.js';
import { Keyspace, ROOT } from '../../core/keyspace.js';
import { createApiRuntime } from '../api-runtime.js';
import { rootLogger } from '../logger.js';
import { resolveEtcd, resolveRoot, withEndpoints, withRoot, type SecurityFlags } from '../options.js';

interface ServeOptions extends SecurityFlags {
  archiverGroup: string;
  port: string;
  host: string;
  owner: string;
  infoTags: string;
  maxSize: string;
  defaultSize: string;
  authFile?: string;
  demoAuth?: boolean;
  endpoints?: string;
  root?: string;
}

const VERSION = '0.1.0';

/** Register `pvsync serve` on the program. */
export function register(program: Command): void {
  const cmd = program.command('serve')
    .description('serve the ChannelFinder REST API from a live mirror of etcd')
    .option('--port <port>', 'TCP port (env PVSYNC_PORT)', process.env['PVSYNC_PORT'] ?? '8080')
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--owner <name>', 'owner of channels derived from IOCs', 'pvsync')
    .option('--info-tags <list>', 'info tags published as properties, comma-separated', 'archive')
    .option('--max-size <n>', 'largest ~size a query may ask for (the result ceiling)', '1000000')
    .option('--default-size <n>', 'page size when a query has no ~size (upstream: 10 000)', '10000')
    .option('--auth-file <path>', 'users allowed to write: YAML/JSON with scrypt hashes (env PVSYNC_AUTH_FILE)', process.env['PVSYNC_AUTH_FILE'])
    .option('--archiver-group <name>', 'archiver group served at /api/v1/archiver and /archiver/*', 'default')
    .option('--demo-auth', "enable ChannelFinder's demo users admin/adminPass (ADMIN) and user/userPass (USER)", false);
  withRoot(withEndpoints(cmd)).action(async (opts: ServeOptions) => runServe(opts));
}

async function runServe(opts: ServeOptions): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PvsError('PVS_CONFIG', `--port must be a TCP port, got ${opts.port}`);
  const maxSize = Number(opts.maxSize);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new PvsError('PVS_CONFIG', `--max-size must be a positive integer, got ${opts.maxSize}`);
  const defaultSize = Number(opts.defaultSize);
  if (!Number.isInteger(defaultSize) || defaultSize < 1 || defaultSize > maxSize) {
    throw new PvsError('PVS_CONFIG', `--default-size must be a positive integer up to --max-size, got ${opts.defaultSize}`);
  }
  let auth: AuthFile | undefined = opts.authFile === undefined ? undefined : await loadAuthFile(opts.authFile);
  if (opts.demoAuth === true) auth = mergeAuthFiles(await demoAuthFile(), auth ?? { users: {} });
  const log = rootLogger('pvsync-serve');
  const { endpoints, security } = resolveEtcd(opts);
  const keys = new Keyspace(resolveRoot(opts.root, ROOT));
  const client = createEtcdClient(endpoints, security === undefined ? {} : { security });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runtime = createApiRuntime({
    client, keys, log, registry, httpLogger: log.child({ component: 'http' }),
    owner: opts.owner, infoWhitelist: opts.infoTags.split(',').map((s) => s.trim()).filter(Boolean),
    limits: { defaultSize, maxSize },
    ...(auth === undefined ? {} : { auth }),
    serviceInfo: (mirror) => ({
      version: VERSION,
      backend: () => ({ status: mirror.ready ? 'Connected' : 'Disconnected', clusterName: 'etcd', version: 'etcd 3.4' }),
    }),
    health: (mirror, directory) => ({
      ok: mirror.ready, etcd: { endpoints, watching: mirror.ready }, revision: mirror.revision,
      channels: directory.size, relists: mirror.relists, rejectedValues: mirror.rejected,
    }),
  });
  const { app, mirror, directory } = runtime;
  // Archiver HA over HTTP: status, switchover, and /archiver/* redirected to the active node.
  await app.register(archiverRoutes, {
    service: new EtcdArchiverService(client, keys.root), defaultGroup: opts.archiverGroup,
    authorizeSwitchover: async (header) => {
      requireRole(await runtime.authenticate(header), 'ADMIN', 'switch the active archiver over');
    },
  });
  if (auth === undefined) log.warn({}, 'no --auth-file and no --demo-auth: every write is refused (401)');
  else log.info({ users: Object.keys(auth.users).length, demo: opts.demoAuth === true }, 'writes enabled');

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      await app.close();
      await mirror.stop();
      client.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  log.info({ endpoints, root: keys.root }, 'loading snapshot');
  await mirror.start();
  log.info({ revision: mirror.revision, channels: directory.size }, 'directory ready');
  await app.listen({ port, host: opts.host });
  log.info({ port, host: opts.host }, 'listening');
}
