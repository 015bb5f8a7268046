/**
 * `pvsync serve`: the ChannelFinder-compatible API server. Follows etcd with one mirror into an in-memory directory
 * and answers from memory; any number of replicas can serve the same cluster.
 */
import type { Command } from 'commander';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { Mirror } from '../../adapters/etcd/mirror.js';
import { buildApp } from '../../adapters/http/app.js';
import { Directory } from '../../core/directory/directory.js';
import { PvsError } from '../../core/errors.js';
import { Keyspace, ROOT } from '../../core/keyspace.js';
import { rootLogger } from '../logger.js';
import { resolveEndpoints, resolveRoot, withEndpoints, withRoot } from '../options.js';

interface ServeOptions {
  port: string;
  host: string;
  owner: string;
  infoTags: string;
  maxSize: string;
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
    .option('--max-size <n>', 'largest ~size a query may ask for', '1000000');
  withRoot(withEndpoints(cmd)).action(async (opts: ServeOptions) => runServe(opts));
}

async function runServe(opts: ServeOptions): Promise<void> {
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new PvsError('PVS_CONFIG', `--port must be a TCP port, got ${opts.port}`);
  const maxSize = Number(opts.maxSize);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw new PvsError('PVS_CONFIG', `--max-size must be a positive integer, got ${opts.maxSize}`);
  const log = rootLogger('pvsync-serve');
  const endpoints = resolveEndpoints(opts.endpoints);
  const keys = new Keyspace(resolveRoot(opts.root, ROOT));
  const client = createEtcdClient(endpoints);
  const directory = new Directory({ owner: opts.owner, infoWhitelist: opts.infoTags.split(',').map((s) => s.trim()).filter(Boolean) });
  const mirror = new Mirror({ client, keys, sink: directory, log });

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = buildApp({
    directory, registry, logger: log.child({ component: 'http' }),
    limits: { defaultSize: 10_000, maxSize },
    serviceInfo: {
      version: VERSION,
      backend: () => ({ status: mirror.ready ? 'Connected' : 'Disconnected', clusterName: 'etcd', version: 'etcd 3.4' }),
    },
    health: () => ({
      ok: mirror.ready, etcd: { endpoints, watching: mirror.ready }, revision: mirror.revision,
      channels: directory.size, relists: mirror.relists, rejectedValues: mirror.rejected,
    }),
  });

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
