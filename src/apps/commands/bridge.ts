/**
 * `pvsync bridge`: a RecCeiver-compatible bridge. Unmodified reccaster IOCs upload to it and it writes straight into
 * etcd; run several for no single point of failure. Its options are parsed in `bridgeConfig` alone.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { createEtcdClient } from '../../adapters/etcd/client.js';
import { PvsError } from '../../core/errors.js';
import { Keyspace, ROOT } from '../../core/keyspace.js';
import { DEFAULT_ANNOUNCE_PORT } from '../../core/reccaster/messages.js';
import { startBridge, type BridgeConfig } from '../bridge.js';
import { rootLogger } from '../logger.js';
import { resolveEtcd, resolveRoot, withEndpoints, withRoot, type SecurityFlags } from '../options.js';

/** The raw options as commander hands them over. */
export interface BridgeFlags extends SecurityFlags {
  name?: string;
  announce?: string[];
  bind: string;
  announceInterval: string;
  ttl: string;
  pingInterval: string;
  frameTimeout: string;
  claimWait?: string;
  maxConnections: string;
  maxPerPeer: string;
  endpoints?: string;
  root?: string;
}

/** Register `pvsync bridge` on the program. */
export function register(program: Command): void {
  const cmd = program.command('bridge')
    .description('accept reccaster IOCs (RecCaster protocol) and publish them to etcd like `pvsync upload`')
    .option('--name <id>', 'name of this bridge, published as recceiverID (default bridge@<host>)')
    .option('--announce <addr:port>', `where to announce (repeatable; default the broadcast address of --bind, port ${DEFAULT_ANNOUNCE_PORT})`, collect)
    .option('--bind <host:port>', 'TCP address to accept IOCs on (port 0: any free port, announced)', '0.0.0.0:0')
    .option('--announce-interval <seconds>', 'time between announcements', '15')
    .option('--ttl <seconds>', 'lease TTL of each IOC session: a killed bridge\'s IOCs turn Inactive within it', '10')
    .option('--ping-interval <seconds>', 'ping an IOC silent this long (and after its upload); no pong within as long again closes it', '5')
    .option('--frame-timeout <seconds>', 'deadline for a ClientGreet and for a frame once begun', '15')
    .option('--claim-wait <seconds>', 'how long an IOC\'s second session waits for its first to end before it is closed (default TTL + 2)')
    .option('--max-connections <n>', 'connections accepted at once', '4096')
    .option('--max-per-peer <n>', 'connections accepted at once from one address', '512');
  withRoot(withEndpoints(cmd)).action(async (flags: BridgeFlags) => runBridge(flags));
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Resolve and check the options; a bad one is a PVS_CONFIG error naming it. */
export function bridgeConfig(flags: BridgeFlags): BridgeConfig {
  const bind = hostPort('--bind', flags.bind, true);
  const ttl = seconds('--ttl', flags.ttl, 1);
  const loopback = bind.host.startsWith('127.');
  const defaultTarget = { host: loopback ? '127.255.255.255' : '255.255.255.255', port: DEFAULT_ANNOUNCE_PORT };
  return {
    name: flags.name ?? `bridge@${hostname()}`,
    host: bind.host, port: bind.port,
    announce: flags.announce === undefined || flags.announce.length === 0
      ? [defaultTarget] : flags.announce.map((a) => hostPort('--announce', a, false)),
    announceIntervalMs: seconds('--announce-interval', flags.announceInterval, 0.1) * 1000,
    ttlSeconds: ttl,
    claimWaitMs: (flags.claimWait === undefined ? ttl + 2 : seconds('--claim-wait', flags.claimWait, 0)) * 1000,
    pingIntervalMs: seconds('--ping-interval', flags.pingInterval, 0.1) * 1000,
    frameTimeoutMs: seconds('--frame-timeout', flags.frameTimeout, 0.1) * 1000,
    maxConnections: count('--max-connections', flags.maxConnections),
    maxPerPeer: count('--max-per-peer', flags.maxPerPeer),
  };
}

async function runBridge(flags: BridgeFlags): Promise<void> {
  const log = rootLogger('pvsync-bridge');
  const cfg = bridgeConfig(flags);
  const { endpoints, security } = resolveEtcd(flags);
  const client = createEtcdClient(endpoints, { log, ...(security === undefined ? {} : { security }) });
  const bridge = await startBridge(cfg, client, new Keyspace(resolveRoot(flags.root, ROOT)), log);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: marking connected IOCs inactive');
    void bridge.close().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await new Promise<never>(() => undefined);
}

function hostPort(flag: string, raw: string, portZero: boolean): { host: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(raw.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= (portZero ? 0 : 1) && port <= 65535) || m[1]!.split('.').some((p) => Number(p) > 255)) {
    throw new PvsError('PVS_CONFIG', `${flag} must be IPv4-ADDRESS:PORT, got ${JSON.stringify(raw)}`);
  }
  return { host: m[1]!, port };
}

function seconds(flag: string, raw: string, min: number): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) throw new PvsError('PVS_CONFIG', `${flag} must be a number of seconds ≥ ${min}, got ${raw}`);
  return v;
}

function count(flag: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new PvsError('PVS_CONFIG', `${flag} must be a positive integer, got ${raw}`);
  return v;
}
