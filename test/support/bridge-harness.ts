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
import type { CfChannel } from '../../src/core/model.js';

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
