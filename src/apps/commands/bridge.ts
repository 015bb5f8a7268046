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
import { COUNT, numberOption, parseOptionValue, type ValueRule } from '../option-values.js';
import { resolveEtcd, resolveRoot, withEndpoints, withRoot, type EndpointsFlag, type SecurityFlags } from '../options.js';

/** The raw options as commander hands them over. */
export interface BridgeFlags extends SecurityFlags {
  name?: string;
  announce?: string[];
  bind: string;
  announceInterval: number | string;
  ttl: number | string;
  pingInterval: number | string;
  frameTimeout: number | string;
  claimWait?: number | string;
  maxConnections: number | string;
  maxPerPeer: number | string;
  endpoints?: EndpointsFlag;
  root?: string;
}

const AT_LEAST_1S: ValueRule = { kind: 'seconds', min: 1 };
const AT_LEAST_100MS: ValueRule = { kind: 'seconds', min: 0.1 };
const NON_NEGATIVE_SECONDS: ValueRule = { kind: 'seconds', min: 0 };

/** Register `pvsync bridge` on the program. */
export function register(program: Command): void {
  const cmd = program.command('bridge')
    .description('accept reccaster IOCs (RecCaster protocol) and publish them to etcd like `pvsync upload`')
    .option('--name <id>', 'name of this bridge, published as recceiverID (default bridge@<host>)')
    .option('--announce <addr:port>', `where to announce (repeatable; default the broadcast address of --bind, port ${DEFAULT_ANNOUNCE_PORT})`, collect)
    .option('--bind <host:port>', 'TCP address to accept IOCs on (port 0: any free port, announced)', '0.0.0.0:0')
    .addOption(numberOption('--announce-interval <seconds>', 'time between announcements', AT_LEAST_100MS, { fallback: 15 }))
    .addOption(numberOption('--ttl <seconds>', 'lease TTL of each IOC session: a killed bridge\'s IOCs turn Inactive within it', AT_LEAST_1S, { fallback: 10 }))
    .addOption(numberOption('--ping-interval <seconds>', 'ping an IOC silent this long (and after its upload); no pong within as long again closes it', AT_LEAST_100MS, { fallback: 5 }))
    .addOption(numberOption('--frame-timeout <seconds>', 'deadline for a ClientGreet and for a frame once begun', AT_LEAST_100MS, { fallback: 15 }))
    .addOption(numberOption('--claim-wait <seconds>', 'how long an IOC\'s second session waits for its first to end before it is closed (default TTL + 2)', NON_NEGATIVE_SECONDS))
    .addOption(numberOption('--max-connections <n>', 'connections accepted at once', COUNT, { fallback: 4096 }))
    .addOption(numberOption('--max-per-peer <n>', 'connections accepted at once from one address', COUNT, { fallback: 512 }));
  withRoot(withEndpoints(cmd)).action(async (flags: BridgeFlags) => runBridge(flags));
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Resolve and check the options; a bad one is a PVS_CONFIG error naming it. */
export function bridgeConfig(flags: BridgeFlags): BridgeConfig {
  const bind = hostPort('--bind', flags.bind, true);
  const ttl = parseOptionValue('--ttl', flags.ttl, AT_LEAST_1S);
  const loopback = bind.host.startsWith('127.');
  const defaultTarget = { host: loopback ? '127.255.255.255' : '255.255.255.255', port: DEFAULT_ANNOUNCE_PORT };
  return {
    name: flags.name ?? `bridge@${hostname()}`,
    host: bind.host, port: bind.port,
    announce: flags.announce === undefined || flags.announce.length === 0
      ? [defaultTarget] : flags.announce.map((a) => hostPort('--announce', a, false)),
    announceIntervalMs: parseOptionValue('--announce-interval', flags.announceInterval, AT_LEAST_100MS) * 1000,
    ttlSeconds: ttl,
    claimWaitMs: (flags.claimWait === undefined ? ttl + 2 : parseOptionValue('--claim-wait', flags.claimWait, NON_NEGATIVE_SECONDS)) * 1000,
    pingIntervalMs: parseOptionValue('--ping-interval', flags.pingInterval, AT_LEAST_100MS) * 1000,
    frameTimeoutMs: parseOptionValue('--frame-timeout', flags.frameTimeout, AT_LEAST_100MS) * 1000,
    maxConnections: parseOptionValue('--max-connections', flags.maxConnections, COUNT),
    maxPerPeer: parseOptionValue('--max-per-peer', flags.maxPerPeer, COUNT),
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
