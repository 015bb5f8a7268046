/**
 * `pvsync replicate --type T --from SOURCE --to TARGET`: one-way replication of data type T from its primary
 * installation to a replica (installations.yml; docs/operations.md, "Several installations"). Long-running; run
 * several for the same flow and one is elected. `--status-port` serves /healthz (lag, checkpoint) and /metrics.
 */
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Gauge, Registry, Counter } from 'prom-client';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { Replicator } from '../../adapters/etcd/replicator.js';
import { PvsError } from '../../core/errors.js';
import { DATA_TYPE_NAMES, flowOf, type DataType } from '../../core/installations/config.js';
import { ReplicationKeys } from '../../core/replication/keys.js';
import { etcdOf, installationsPath, loadInstallations, namedInstallation } from '../installations-file.js';
import { rootLogger } from '../logger.js';
import { PORT, POSITIVE_SECONDS, numberOption } from '../option-values.js';

interface ReplicateOptions {
  installations?: string;
  type: string;
  from: string;
  to: string;
  id?: string;
  leaseTtl: number;
  statusPort?: number;
  statusHost: string;
  maxLag: number;
}

/** Register `pvsync replicate` on the program. */
export function register(program: Command): void {
  program.command('replicate')
    .description('replicate one data type one way from its primary installation to a replica (installations.yml)')
    .option('--installations <file>', 'installations file (env PVSYNC_INSTALLATIONS)')
    .requiredOption('--type <type>', `data type: ${DATA_TYPE_NAMES.join(', ')}`)
    .requiredOption('--from <installation>', 'the primary installation of the data type')
    .requiredOption('--to <installation>', 'the replica installation')
    .option('--id <name>', 'this replicator\'s name in the election (default host:pid)')
    .addOption(numberOption('--lease-ttl <seconds>', 'TTL of the election lease', { kind: 'seconds', min: 2 }, { fallback: 5 }))
    .addOption(numberOption('--status-port <port>', 'serve /healthz and /metrics on this port', PORT))
    .option('--status-host <addr>', 'address of the status server', '127.0.0.1')
    .addOption(numberOption('--max-lag <seconds>', '/healthz answers 503 when the replica was not proven current for this long', POSITIVE_SECONDS, { fallback: 30 }))
    .action(async (opts: ReplicateOptions) => runReplicate(opts));
}

async function runReplicate(opts: ReplicateOptions): Promise<void> {
  const file = installationsPath(opts.installations);
  if (file === undefined) throw new PvsError('PVS_CONFIG', 'pvsync replicate needs --installations FILE (env PVSYNC_INSTALLATIONS)');
  const cfg = loadInstallations(file);
  if (!(DATA_TYPE_NAMES as string[]).includes(opts.type)) {
    throw new PvsError('PVS_CONFIG', `--type must be one of ${DATA_TYPE_NAMES.join(', ')}, got ${opts.type}`);
  }
  const type = opts.type as DataType;
  const from = namedInstallation(cfg, file, opts.from);
  const to = namedInstallation(cfg, file, opts.to);
  const flow = flowOf(cfg, type, from.name);
  if (flow === undefined) throw new PvsError('PVS_CONFIG', `${file}: ${from.name} is not a primary of ${type} (data.${type})`);
  if (!flow.replicas.includes(to.name)) throw new PvsError('PVS_CONFIG', `${file}: ${to.name} is not a replica of ${type} from ${from.name}`);
  const ttl = opts.leaseTtl;
  const maxLag = opts.maxLag;

  const log = rootLogger('pvsync-replicate');
  const src = etcdOf(from);
  const dst = etcdOf(to);
  const source = createEtcdClient(src.endpoints, { log, ...(src.security === undefined ? {} : { security: src.security }) });
  const target = createEtcdClient(dst.endpoints, { log, ...(dst.security === undefined ? {} : { security: dst.security }) });
  const keys = new ReplicationKeys(from.etcd.root, to.etcd.root, from.name, type);
  const id = opts.id ?? `${hostname()}:${process.pid}`;
  const replicator = new Replicator({ source, target, keys, log, id, leaseTtlS: ttl });

  const registry = new Registry();
  const labels = { source: from.name, target: to.name, type };
  const lag = new Gauge({ name: 'pvsync_replication_lag_seconds', help: 'seconds since the replica was last proven current with its primary', labelNames: ['source', 'target', 'type'], registers: [registry] });
  const ckpt = new Gauge({ name: 'pvsync_replication_checkpoint_revision', help: 'last source revision wholly applied at the replica', labelNames: ['source', 'target', 'type'], registers: [registry] });
  const leader = new Gauge({ name: 'pvsync_replication_leader', help: '1 while this replicator is the elected one', labelNames: ['source', 'target', 'type'], registers: [registry] });
  const keysTotal = new Counter({ name: 'pvsync_replication_keys_total', help: 'keys written (put or deleted) at the replica', labelNames: ['source', 'target', 'type'], registers: [registry] });
  let counted = 0;
  const refresh = (): void => {
    const l = replicator.lagSeconds();
    lag.set(labels, Number.isFinite(l) ? l : -1);
    ckpt.set(labels, replicator.stats.checkpoint);
    leader.set(labels, replicator.stats.leader ? 1 : 0);
    keysTotal.inc(labels, replicator.stats.keys - counted);
    counted = replicator.stats.keys;
  };
  const health = (): { ok: boolean; body: Record<string, unknown> } => {
    const l = replicator.lagSeconds();
    // A standby is healthy while it stands by; the leader when its replica is proven current within --max-lag.
    const ok = !replicator.stats.leader || l <= maxLag;
    return { ok, body: { ok, ...labels, id, ...replicator.stats, lagSeconds: Number.isFinite(l) ? l : null } };
  };

  let server: ReturnType<typeof createServer> | null = null;
  if (opts.statusPort !== undefined) {
    const port = opts.statusPort;
    server = createServer((req, res) => {
      refresh();
      if (req.url === '/metrics') {
        void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
        return;
      }
      if (req.url === '/healthz') {
        const h = health();
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h.body));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server!.listen(port, opts.statusHost, resolve));
    log.info({ port, host: opts.statusHost }, 'status server listening');
  }

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      server?.close();
      await replicator.stop();
      source.close();
      target.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ ...labels, id, sourceRoot: keys.sourceRoot, replicaRoot: keys.replicaRoot }, 'replicator starting');
  replicator.start();
}
