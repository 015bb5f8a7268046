/**
 * In-process RecCaster bridges on the shared etcd cluster for integration tests and the bridge bench: each with its
 * own key root, free ports, a captured log, and snapshots of what it published.
 */
import type { Etcd3 } from 'etcd3';
import { pino, type Logger } from 'pino';
import { rangePrefix } from '../../src/adapters/etcd/kv.js';
import { startBridge, type BridgeConfig, type RunningBridge } from '../../src/apps/bridge.js';
import { decodeChange } from '../../src/core/directory/decode.js';
import { Derivation } from '../../src/core/directory/derivation.js';
import type { DirectoryEvent } from '../../src/core/directory/events.js';
import type { Keyspace } from '../../src/core/keyspace.js';
import type { CfChannel, IocRecord } from '../../src/core/model.js';
import type { CastRecord } from './reccaster-client.js';

/** `n` records an IOC would cast: every third an ai, DESC on every second, infos on every fourth, two aliases on every fifth. */
export function castRecords(n: number, prefix = 'VAC'): CastRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}:G${String(i).padStart(4, '0')}:P`, type: i % 3 === 0 ? 'ai' : 'bo',
    ...(i % 2 === 0 ? { desc: `gauge ${i} pressure` } : {}),
    infos: i % 4 === 0 ? { archive: 'monitor 1.0', autosaveFields: 'VAL' } : {},
    aliases: i % 5 === 0 ? [`${prefix}:ALIAS${i}`, `${prefix}:ALT${i}`] : [],
  }));
}

/** The same records as the parser would hand them to the uploader. */
export function asIocRecords(recs: readonly CastRecord[]): IocRecord[] {
  return recs.map((r) => ({ name: r.name, type: r.type, fields: r.desc === undefined ? {} : { DESC: r.desc }, infos: { ...r.infos }, aliases: [...(r.aliases ?? [])] }));
}

/** A log that keeps every line (JSON objects) for assertions. */
export function captureLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
  return { log, lines };
}

/** Bridge options for tests: loopback, any port, short timers. */
export function testBridgeConfig(over: Partial<BridgeConfig> = {}): BridgeConfig {
  return {
    name: 'bridge-test', host: '127.0.0.1', port: 0, announce: [], announceIntervalMs: 60_000, ttlSeconds: 10,
    claimWaitMs: 1000, pingIntervalMs: 5000, frameTimeoutMs: 5000, maxConnections: 1000, maxPerPeer: 1000, ...over,
  };
}

/** Start an in-process bridge. */
export function bridge(client: Etcd3, keys: Keyspace, over: Partial<BridgeConfig> = {}, log?: Logger): Promise<RunningBridge> {
  return startBridge(testBridgeConfig(over), client, keys, log ?? captureLog('silent').log);
}

/** Every key and value under the root (records, info, alive), as a map. */
export async function snapshot(client: Etcd3, root: string): Promise<Map<string, string>> {
  const snap = await rangePrefix(client, root);
  return new Map(snap.kvs.map((kv) => [kv.key, kv.value.toString()]));
}

/** The channels a directory derives from what is stored under `keys` (as `pvsync serve` would show them). */
export async function derivedChannels(client: Etcd3, keys: Keyspace, infoWhitelist = ['archive']): Promise<CfChannel[]> {
  const snap = await rangePrefix(client, keys.root);
  const events: DirectoryEvent[] = [];
  for (const kv of snap.kvs) {
    const d = decodeChange(keys, kv.key, kv.value.toString(), kv.modRevision);
    if (d.ok) events.push(d.event);
  }
  const dv = new Derivation({ infoWhitelist });
  dv.apply(events, snap.revision);
  return dv.names().map((n) => dv.get(n)!);
}
