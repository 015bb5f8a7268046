/**
 * `pvsync upload`: the uploader that runs beside an IOC. Reads the IOC's startup script and database files, publishes
 * the records to etcd and keeps the IOC's liveness lease until SIGTERM/SIGINT (which marks the IOC Inactive at once).
 */
import { hostname, networkInterfaces } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { nodeFileSource } from '../../adapters/fs/file-source.js';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { IocPublisher, type IocConfiguration } from '../../adapters/etcd/ioc-publisher.js';
import { CaProbe } from '../../adapters/ca/ca-probe.js';
import { IocLiveness } from '../../core/liveness/ioc-liveness.js';
import { parseStartup } from '../../core/dbfile/startup.js';
import { PvsError } from '../../core/errors.js';
import { refuseErrors } from '../../core/upload/strict.js';
import { Keyspace, ROOT, iocIdOf } from '../../core/keyspace.js';
import type { ParseResult } from '../../core/model.js';
import { ConfigRereader } from '../config-reread.js';
import { rootLogger } from '../logger.js';
import { numberOption, type ValueRule } from '../option-values.js';
import { collectKeyValue, resolveEtcd, resolveRoot, withEndpoints, withRoot, type SecurityFlags } from '../options.js';

interface UploadOptions extends SecurityFlags {
  stCmd: string;
  iocName?: string;
  host?: string;
  ttl: number;
  env?: Record<string, string>;
  endpoints?: readonly string[];
  root?: string;
  caPv?: string;
  caInterval: number;
  caGrace: number;
  strict?: boolean;
  rereadInterval: number;
}

const TENTH_OR_MORE: ValueRule = { kind: 'seconds', min: 0.1 };

/** Register `pvsync upload` on the program. */
export function register(program: Command): void {
  const cmd = program.command('upload')
    .description('publish an IOC\'s records to etcd and keep it alive until stopped')
    .requiredOption('--st-cmd <path>', 'the IOC\'s startup script')
    .option('--ioc-name <name>', 'IOC name (default: IOCNAME or IOC from the script, else the script\'s directory)')
    .option('--host <name>', 'host name of the IOC (default: HOSTNAME from the script, else this host)')
    .addOption(numberOption('--ttl <seconds>', 'liveness lease TTL in seconds', { kind: 'seconds', min: 1 }, { fallback: 10 }))
    .option('--env <K=V>', 'environment of the IOC (repeatable; added to the process environment)', collectKeyValue)
    .option('--ca-pv <name>', 'also prove the IOC alive over Channel Access by reading this PV (EPICS_CA_* from the environment)')
    .addOption(numberOption('--ca-interval <seconds>', 'time between Channel Access probes', TENTH_OR_MORE, { fallback: 2 }))
    .addOption(numberOption('--ca-grace <seconds>', 'how long probes may fail before the IOC counts as gone (at least --ca-interval)', TENTH_OR_MORE, { fallback: 10 }))
    .option('--strict', 'refuse to write anything while the IOC configuration has errors (unreadable files, syntax errors…)')
    .addOption(numberOption('--reread-interval <seconds>', 'while files of the configuration cannot be read, re-read it this often (SIGHUP re-reads at once)', TENTH_OR_MORE, { fallback: 30 }));
  withRoot(withEndpoints(cmd)).action(async (opts: UploadOptions) => runUpload(opts));
}

async function runUpload(opts: UploadOptions): Promise<void> {
  const log = rootLogger('pvsync-upload');
  const { ttl, caInterval, caGrace, rereadInterval: rereadS } = opts;
  if (caGrace < caInterval) throw new PvsError('PVS_CONFIG', `--ca-grace must be at least --ca-interval (${caInterval} s), got ${caGrace}`);
  const stCmd = resolve(opts.stCmd);
  const env = { ...stringEnv(process.env), ...(opts.env ?? {}) };
  const files = nodeFileSource();
  if (files.readText(stCmd) === undefined) throw new PvsError('PVS_DB_FILE', `cannot read startup script ${stCmd}`);
  const parsed = parseStartup(stCmd, { files, env });
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  logDiagnostics(parsed, log);
  if (opts.strict === true) refuseErrors(parsed);
  const iocName = opts.iocName ?? parsed.env['IOCNAME'] ?? parsed.env['IOC'] ?? basename(dirname(stCmd));
  const hostName = opts.host ?? parsed.env['HOSTNAME'] ?? hostname();
  const iocId = iocIdOf(iocName, hostName);
  log.info({ ioc: iocId, records: parsed.records.length, diagnostics: parsed.diagnostics.length, errors: errors.length }, 'IOC configuration read');

  const { endpoints, security } = resolveEtcd(opts);
  const client = createEtcdClient(endpoints, { log, ...(security === undefined ? {} : { security }) });
  const initial = configurationOf(parsed);
  const publisher = new IocPublisher({
    client, keys: new Keyspace(resolveRoot(opts.root, ROOT)), iocId, iocName, hostName, iocIP: localAddress(),
    ...initial, ttlSeconds: ttl, writer: `pvsync-upload@${hostname()}`, log, initiallyUp: opts.caPv === undefined,
  });
  // The IOC read its files once at boot; a file this uploader could not read then (NFS) may be readable later.
  // The IOC's identity (name, host) stays as first read.
  const rereader = new ConfigRereader<Reading>({ config: initial, hasErrors: errors.length > 0 }, {
    intervalMs: rereadS * 1000, log,
    read: () => {
      if (files.readText(stCmd) === undefined) throw new PvsError('PVS_DB_FILE', `cannot read startup script ${stCmd}`);
      const again = parseStartup(stCmd, { files, env });
      logDiagnostics(again, log);
      return { config: configurationOf(again), hasErrors: again.diagnostics.some((d) => d.severity === 'error') };
    },
    incomplete: (r) => r.config.unreadable.length > 0,
    same: (a, b) => sameConfiguration(a.config, b.config),
    apply: (r) => {
      if (opts.strict === true && r.hasErrors) return false;
      publisher.reconfigure(r.config);
      return true;
    },
  });
  process.on('SIGHUP', () => rereader.reread('SIGHUP'));
  const probe = opts.caPv === undefined ? undefined : await CaProbe.open(opts.caPv, env, log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    rereader.stop();
    log.info({ signal }, 'shutting down');
    void publisher.stop().finally(() => {
      probe?.close();
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ endpoints }, 'publishing');
  if (probe !== undefined && opts.caPv !== undefined) void probeForever(probe, publisher, caInterval, caGrace, log);
  await publisher.start();
  // Keep running: the publisher holds the lease and re-publishes after any etcd outage.
  await new Promise<never>(() => undefined);
}

function logDiagnostics(parsed: ParseResult, log: Logger): void {
  for (const d of parsed.diagnostics.slice(0, 200)) {
    const level = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warn' : 'debug';
    log[level]({ file: d.file, line: d.line, col: d.col, severity: d.severity, diagnostic: d.message }, 'IOC configuration diagnostic');
  }
  for (const u of parsed.unreadable) {
    log.error({ file: u.at.file, line: u.at.line, col: u.at.col, unreadable: u.name, paths: u.paths, reason: u.reason },
      'IOC configuration file cannot be read: the records last published from it are kept');
  }
}

// One reading of the configuration, and whether it has errors (which `--strict` refuses to publish).
interface Reading {
  readonly config: IocConfiguration;
  readonly hasErrors: boolean;
}

function configurationOf(parsed: ParseResult): IocConfiguration {
  return { env: publishedEnv(parsed.env), records: parsed.records, unreadable: parsed.unreadable };
}

// Two readings publish the same thing when their records, unreadable files and environment are equal.
function sameConfiguration(a: IocConfiguration, b: IocConfiguration): boolean {
  return JSON.stringify([a.env, a.records, a.unreadable]) === JSON.stringify([b.env, b.records, b.unreadable]);
}

// The IOC-wide variables a reccaster would send (domain.md §3), plus any `PVSYNC_*`-free site variable the script set.
const PUBLISHED_ENV = ['EPICS_VERSION', 'HOSTNAME', 'EPICS_BASE', 'TOP', 'ARCH', 'IOC', 'EPICS_CA_ADDR_LIST',
  'EPICS_CA_AUTO_ADDR_LIST', 'EPICS_CA_MAX_ARRAY_BYTES', 'RSRV_SERVER_PORT', 'PVAS_SERVER_PORT', 'PWD',
  'EPICS_HOST_ARCH', 'IOCNAME', 'ENGINEER', 'LOCATION'];

function publishedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PUBLISHED_ENV) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Probe the IOC over CA every `intervalS`; tell the publisher when the IOC goes down or comes back. */
async function probeForever(probe: CaProbe, publisher: IocPublisher, intervalS: number, graceS: number, log: Logger): Promise<never> {
  const liveness = new IocLiveness({ graceMs: graceS * 1000 });
  for (;;) {
    const ok = await probe.probe(Math.min(intervalS, 5));
    const change = liveness.observe(ok, Date.now());
    if (change !== null) {
      log.info({ state: change }, 'Channel Access liveness changed');
      publisher.setIocUp(change === 'up');
    }
    await new Promise((r) => setTimeout(r, intervalS * 1000));
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function localAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
