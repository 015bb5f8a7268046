/**
 * `pvsync archiver-sim` (the stand-in Archiver Appliance, docs/archiver-appliance-sim.md) and
 * `pvsync archive-reconcile` (follow the directory and drive the group's active appliance, docs/archiver-sync.md).
 * Their modules are imported only when the subcommand runs.
 */
import type { Command } from 'commander';
import { PvsError } from '../../core/errors.js';
import { listOption, numberOption } from '../option-values.js';
import { withEndpoints, type SecurityFlags } from '../options.js';

interface SimOpts {
  identity: string; db: string; database: string; port: number; host: string; data?: string; node?: string;
  startupMs: number; workflowMs: number; ca: boolean; pidFile?: string;
}

interface ReconcileOpts extends SecurityFlags {
  group: string; root?: string; db?: string; database: string; archiver: readonly string[]; untargeted: boolean;
  onRemoved: string; identity?: string; endpoints?: string;
}

function envStrings(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return out;
}

async function runSim(o: SimOpts): Promise<void> {
  const { ArchiverSim } = await import('../archiver-sim.js');
  const { rootLogger } = await import('../logger.js');
  const log = rootLogger('pvsync-archiver-sim');
  const wFile = process.env.PVSYNC_WATCHDOG_FILE;
  const agentPid = Number(process.env.PVSYNC_AGENT_PID);
  const sim = new ArchiverSim({
    identity: o.identity, db: o.db, database: o.database, port: o.port, host: o.host,
    ...(o.data === undefined ? {} : { dataDir: o.data }),
    node: o.node ?? process.env.PVSYNC_NODE ?? o.identity,
    startupMs: o.startupMs, workflowMs: o.workflowMs, ca: o.ca,
    ...(o.pidFile === undefined ? {} : { pidFile: o.pidFile }),
    ...(wFile !== undefined && agentPid > 0 ? { watchdog: { file: wFile, agentPid } } : {}),
    env: envStrings(),
  }, log);
  const port = await sim.start();
  log.info({ identity: o.identity, port }, 'stand-in appliance listening');
  const onSignal = (): void => { void sim.stop('signal'); };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await sim.done;
  // Nothing is left to do: do not wait for a CA socket or a timer to let go.
  setTimeout(() => process.exit(0), 1000).unref();
}

async function runReconcile(o: ReconcileOpts): Promise<void> {
  if (o.onRemoved !== 'pause' && o.onRemoved !== 'leave') throw new PvsError('PVS_CONFIG', `--on-removed ${o.onRemoved}: pause or leave`);
  const [{ createEtcdClient }, { Keyspace, ROOT }, opts, { rootLogger }, { startArchiveFollower }, { ArchapplStore }] = await Promise.all([
    import('../../adapters/etcd/client.js'), import('../../core/keyspace.js'), import('../options.js'), import('../logger.js'),
    import('../archive-follower.js'), import('../../adapters/mariadb/archappl.js'),
  ]);
  const log = rootLogger('pvsync-archive-reconcile');
  const { endpoints, security } = opts.resolveEtcd(o);
  const keys = new Keyspace(opts.resolveRoot(o.root, ROOT));
  const client = createEtcdClient(endpoints, { log, ...(security === undefined ? {} : { security }) });
  const store = o.db === undefined ? undefined : await ArchapplStore.open(o.db, o.database);
  const follower = await startArchiveFollower({
    client, keys, group: o.group, log, ...(store === undefined ? {} : { store }),
    settings: {
      selector: { names: [...o.archiver], untargeted: o.untargeted },
      onRemoved: o.onRemoved, ...(o.identity === undefined ? {} : { applianceIdentity: o.identity }),
    },
  });
  const stop = (): void => { void follower.stop(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await follower.done;
  await follower.stop();
  await store?.close();
  client.close();
}

/** Register `archiver-sim` and `archive-reconcile`. */
export function register(program: Command): void {
  program.command('archiver-sim')
    .description('run a stand-in Archiver Appliance: mgmt BPLs, the archappl tables in MariaDB, per-PV sample files')
    .requiredOption('--identity <id>', 'appliance identity (the same on both nodes of a pair)')
    .requiredOption('--db <url>', 'MariaDB server, mariadb://user:password@host:port/')
    .option('--database <name>', 'the appliance\'s database', 'archappl')
    .addOption(numberOption('--port <port>', 'mgmt port (0 = any)', { kind: 'integer', min: 0, max: 65535 }, { fallback: 17665 }))
    .option('--host <addr>', 'listen address', '127.0.0.1')
    .option('--data <dir>', 'write each archived PV\'s samples to <dir>/<pv>.jsonl')
    .option('--node <name>', 'node name written in samples (default $PVSYNC_NODE or the identity)')
    .addOption(numberOption('--startup-ms <ms>', 'time in start-up after loading the database', { kind: 'ms', min: 0 }, { fallback: 1000 }))
    .addOption(numberOption('--workflow-ms <ms>', 'time an archive request spends in the workflow', { kind: 'ms', min: 0 }, { fallback: 300 }))
    .option('--no-ca', 'never sample over Channel Access (synthetic values only)')
    .option('--pid-file <file>', 'write the process id here')
    .action((o: SimOpts) => runSim(o));
  const rec = program.command('archive-reconcile')
    .description('follow the directory and drive the active appliance of an archiver group (archive/pause/resume)')
    .option('--group <name>', 'archiver group', 'default')
    .option('--root <prefix>', 'etcd key root (default /pvsync/v1/)')
    .option('--db <url>', 'the shared MariaDB: queue ArchivePVRequests while no node is active')
    .option('--database <name>', 'the appliance\'s database', 'archappl')
    .addOption(listOption('--archiver <list>', 'appliance names this group serves in the `archiver` property (comma list)', { fallback: [] }))
    .option('--no-untargeted', 'ignore channels without an `archiver` property')
    .option('--on-removed <what>', 'archive tag removed: pause or leave', 'pause')
    .option('--identity <id>', 'the appliance identity of the group (its PVTypeInfo rows)');
  withEndpoints(rec).action((o: ReconcileOpts) => runReconcile(o));
}
