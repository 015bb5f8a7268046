/**
 * `pvsync cluster up [--secure] | down | status | env`: run the local etcd cluster of etcd-cluster.yml as background
 * processes whose data, pid files and logs live in the state dir (--state-dir, else PVSYNC_STATE_DIR, else ./.state).
 * `--secure` adds TLS and etcd authentication with certificates in `<state-dir>/tls/` (docs/security.md).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ensureEtcd } from '../../adapters/local-etcd/install.js';
import { LocalCluster, type MemberState } from '../../adapters/local-etcd/local-cluster.js';
import { PvsError } from '../../core/errors.js';
import { enableClusterAuth, isSecureStateDir, prepareClusterTls, rootCertFiles, tlsDirOf } from '../cluster-security.js';
import { rootLogger } from '../logger.js';
import { resolveStateDir } from '../options.js';
import { clusterTlsFiles } from '../../adapters/local-etcd/local-cluster.js';
import { loadClusterSpec } from '../config-files.js';

interface ClusterOpts {
  readonly config: string;
  readonly stateDir?: string;
  readonly json?: boolean;
  readonly secure?: boolean;
}

/**
 * Load the spec, find (or install) etcd and attach to the cluster in the state dir. The cluster runs TLS when
 * `secure` is asked for or the state dir already holds its CA (a secured cluster stays secured).
 */
export async function openLocalCluster(opts: { config: string; stateDir?: string | undefined; secure?: boolean | undefined }): Promise<LocalCluster> {
  const spec = await loadClusterSpec(opts.config);
  const log = rootLogger('pvsync').child({ component: 'cluster' });
  const etcdBin = await ensureEtcd({ searchPath: process.env['PATH'] ?? '', isRoot: process.getuid?.() === 0, log });
  const stateDir = resolveStateDir(opts.stateDir);
  const secure = opts.secure === true || isSecureStateDir(stateDir);
  return new LocalCluster(spec, stateDir, { etcdBin, log, ...(secure ? { security: { dir: tlsDirOf(resolve(stateDir)) } } : {}) });
}

/** The shell lines that point pvsync (and etcdctl) at a cluster: endpoints and, when secured, root's certificate. */
export function envLines(c: LocalCluster): string {
  const vars: [string, string][] = [['PVSYNC_ENDPOINTS', c.endpoints.join(',')], ['PVSYNC_STATE_DIR', c.stateDir]];
  if (c.secure) {
    const dir = tlsDirOf(c.stateDir);
    const root = rootCertFiles(dir);
    const ca = clusterTlsFiles(dir).ca;
    vars.push(['PVSYNC_ETCD_CA', ca], ['PVSYNC_ETCD_CERT', root.cert], ['PVSYNC_ETCD_KEY', root.key],
      ['ETCDCTL_API', '3'], ['ETCDCTL_ENDPOINTS', c.endpoints.join(',')], ['ETCDCTL_CACERT', ca],
      ['ETCDCTL_CERT', root.cert], ['ETCDCTL_KEY', root.key]);
  } else {
    vars.push(['ETCDCTL_API', '3'], ['ETCDCTL_ENDPOINTS', c.endpoints.join(',')]);
  }
  return vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n') + '\n';
}

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function common(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'cluster description', 'etcd-cluster.yml')
    .option('--state-dir <dir>', 'where data, pid files and logs live (env PVSYNC_STATE_DIR, default .state)');
}

/** Register `pvsync cluster` on the program. */
export function register(program: Command): void {
  const cluster = program.command('cluster').description('run the local 3-member etcd cluster (etcd-cluster.yml)');

  common(cluster.command('up').description('start the members in the background and wait until healthy'))
    .option('--secure', 'TLS on client and peer URLs and etcd authentication, certificates in <state-dir>/tls (docs/security.md)')
    .action(async (opts: ClusterOpts) => {
      const c = await openLocalCluster(opts);
      // etcd keeps each member's peer URLs in its data: a cluster made without TLS cannot simply restart with https.
      if (c.secure && !isSecureStateDir(c.stateDir) && c.memberNames.some((n) => existsSync(join(c.memberDir(n), 'data', 'member')))) {
        throw new PvsError('PVS_CLUSTER', `the cluster in ${c.stateDir} was made without TLS (its peer URLs are stored as http): `
          + 'use another --state-dir for --secure, or start from scratch: `pvsync cluster down && rm -rf <state-dir>/etcd`');
      }
      if (c.secure) await prepareClusterTls(c.spec, tlsDirOf(c.stateDir));
      const endpoints = await c.up();
      if (c.secure) await enableClusterAuth(c, tlsDirOf(c.stateDir));
      process.stdout.write(`etcd cluster is up: ${c.spec.members.length} members, state in ${c.stateDir}\n`
        + `endpoints: ${endpoints.join(',')}\n`
        + (c.secure ? `secured: TLS and etcd authentication; certificates in ${tlsDirOf(c.stateDir)}\n`
          + `use it from a shell: eval "$(pvsync cluster env --state-dir ${c.stateDir})"\n` : ''));
    });

  common(cluster.command('env').description('print the shell variables that point pvsync and etcdctl at the cluster'))
    .action(async (opts: ClusterOpts) => {
      process.stdout.write(envLines(await openLocalCluster(opts)));
    });

  common(cluster.command('down').description('stop the members (data is kept)'))
    .action(async (opts: ClusterOpts) => {
      const c = await openLocalCluster(opts);
      await c.down();
      process.stdout.write(`etcd cluster is down (data kept in ${c.stateDir})\n`);
    });

  common(cluster.command('status').description('pid, liveness, health, leader and db size of every member'))
    .option('--json', 'print JSON')
    .action(async (opts: ClusterOpts) => {
      const c = await openLocalCluster(opts);
      const members = await c.status();
      process.stdout.write(opts.json === true ? `${JSON.stringify(members, null, 2)}\n` : formatStatus(members));
      // Scripts can test `pvsync cluster status` for a fully healthy cluster.
      if (!members.every((m) => m.healthy)) process.exitCode = 1;
    });
}

/** A fixed-width table of member states. */
export function formatStatus(members: readonly MemberState[]): string {
  const rows = [['MEMBER', 'PID', 'ALIVE', 'HEALTHY', 'LEADER', 'DB SIZE', 'ENDPOINT']];
  for (const m of members) {
    rows.push([m.name, m.pid === null ? '-' : String(m.pid), yesNo(m.alive), yesNo(m.healthy), m.leader ? 'leader' : '-',
      m.dbSizeBytes === null ? '-' : formatBytes(m.dbSizeBytes), m.clientUrl]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
