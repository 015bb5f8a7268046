/**
 * `pvsync archiver-sync --db mariadb://user:pass@host:port/pvsync`: keep the relational mirror in MariaDB equal to
 * the directory (docs/archiver-sync.md). Any number run; one is elected writer on an etcd lease.
 */
import type { Command } from 'commander';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { buildProbeApp } from '../../adapters/http/probe-app.js';
import { PvsError } from '../../core/errors.js';
import { Keyspace, ROOT } from '../../core/keyspace.js';
import { parseDbUrl, redactedUrl } from '../../core/relational/db-url.js';
import { SYNC_GROUP, createArchiverSync } from '../archiver-sync.js';
import { rootLogger } from '../logger.js';
import { PORT, POSITIVE_SECONDS, listOption, numberOption } from '../option-values.js';
import { resolveEtcd, resolveRoot, withEndpoints, withRoot, type SecurityFlags } from '../options.js';
import { EtcdArchiverService } from '../../adapters/etcd/archiver-ops.js';
import { ArchapplStore } from '../../adapters/mariadb/archappl.js';
import { reconcilerFollower } from '../archive-follower.js';
import { ArchiveReconciler } from '../archive-reconciler.js';

interface SyncOpts extends SecurityFlags {
  db?: string;
  endpoints?: string;
  root?: string;
  node?: string;
  group: string;
  ttl: number;
  port?: number;
  host: string;
  owner: string;
  infoTags: readonly string[];
  maxLag: number;
  archiveGroup?: string;
  archiveIdentity?: string;
  archiveDatabase: string;
}

/** Register `pvsync archiver-sync`. */
export function register(program: Command): void {
  const cmd = program.command('archiver-sync')
    .description('keep the relational mirror in MariaDB equal to the directory (one elected writer among any number)')
    .option('--db <url>', 'mariadb://user:password@host:port/database (env PVSYNC_DB_URL; database default pvsync)')
    .option('--node <name>', 'this process\'s name in the election (default host:pid)')
    .option('--group <name>', 'election group of the sync writers', SYNC_GROUP)
    .addOption(numberOption('--ttl <seconds>', 'election lease TTL', { kind: 'seconds', min: 2 }, { fallback: 5 }))
    .addOption(numberOption('--port <port>', 'serve /healthz and /metrics on this TCP port', PORT))
    .option('--host <addr>', 'address for --port', '0.0.0.0')
    .option('--owner <name>', 'owner of channels derived from IOCs (as pvsync serve --owner)', 'pvsync')
    .addOption(listOption('--info-tags <list>', 'info tags published as properties (as pvsync serve --info-tags)', { fallback: ['archive'] }))
    .addOption(numberOption('--max-lag <seconds>', '/healthz answers 503 while a revision waits longer than this for MariaDB', POSITIVE_SECONDS, { fallback: 30 }))
    .option('--archive-group <name>', 'also drive this archiver group\'s active appliance from the elected writer (as pvsync archive-reconcile)')
    .option('--archive-identity <id>', 'with --archive-group: the appliance identity of the group (its PVTypeInfo rows)')
    .option('--archive-database <name>', 'with --archive-group: the appliance\'s database on the --db server (ArchivePVRequests while no node is active)', 'archappl');
  withRoot(withEndpoints(cmd)).action((o: SyncOpts) => runSync(o));
}

async function runSync(o: SyncOpts): Promise<void> {
  const raw = o.db ?? process.env['PVSYNC_DB_URL'];
  if (raw === undefined || raw.trim() === '') throw new PvsError('PVS_CONFIG', '--db (or PVSYNC_DB_URL) is required: mariadb://user:password@host:port/pvsync');
  const target = parseDbUrl(raw.trim());
  const ttlS = o.ttl;
  const maxLag = o.maxLag;
  const port = o.port;
  const { endpoints, security } = resolveEtcd(o);
  const log = rootLogger('pvsync-archiver-sync');
  const keys = new Keyspace(resolveRoot(o.root, ROOT));
  const ttlMs = ttlS * 1000;
  const client = createEtcdClient(endpoints, {
    ...(security === undefined ? {} : { security }), log,
    callTimeoutMs: Math.max(300, Math.min(2000, Math.floor(ttlMs / 3))), dialTimeoutMs: Math.max(300, Math.floor(ttlMs / 3)),
  });
  // The appliance reconciler runs in the elected writer, on the writer's own derivation: one per term.
  const archStore = o.archiveGroup === undefined ? undefined : await ArchapplStore.open(raw.trim(), o.archiveDatabase);
  const archiveGroup = o.archiveGroup;
  const followers = archiveGroup === undefined ? undefined : () => {
    const service = new EtcdArchiverService(client, keys.root);
    const reconciler = new ArchiveReconciler({
      selector: { names: [], untargeted: true }, onRemoved: 'pause',
      ...(o.archiveIdentity === undefined ? {} : { applianceIdentity: o.archiveIdentity }),
    }, {
      active: async () => (await service.status(archiveGroup)).active, log: log.child({ component: 'archive-reconciler' }),
      ...(archStore === undefined ? {} : { store: archStore }),
    });
    return [reconcilerFollower(reconciler)];
  };
  const sync = createArchiverSync({
    client, keys, log, ttlS, maxLagMs: maxLag * 1000, store: { target },
    ...(o.node === undefined ? {} : { node: o.node }), group: o.group,
    derivation: { owner: o.owner, infoWhitelist: [...o.infoTags] },
    ...(followers === undefined ? {} : { followers }),
  });
  const app = port === undefined ? null : buildProbeApp({ health: () => sync.health(), registry: sync.registry });
  if (app !== null && port !== undefined) await app.listen({ port, host: o.host });
  log.info({ endpoints, root: keys.root, db: redactedUrl(target), group: o.group, ttl: ttlS, port }, 'archiver-sync starting');
  const onSignal = (): void => sync.shutdown();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await sync.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await app?.close();
    await archStore?.close();
    client.close();
    // etcd3 may keep retrying a watch against an unreachable member after close: do not let it keep us alive.
    setTimeout(() => process.exit(), 1000).unref();
  }
}
