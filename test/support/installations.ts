/**
 * Two installations on one machine for the replication tests: an installations.yml naming their etcd clusters and
 * roots, `pvsync replicate` processes, and comparing a data type at the primary with its replica at the secondary.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { stringify } from 'yaml';
import { DATA_TYPES, type DataType } from '../../src/core/installations/config.js';
import type { ReplicationKeys } from '../../src/core/replication/keys.js';
import { CheckpointSchema, type Checkpoint } from '../../src/core/replication/plan.js';
import { rangePrefix } from '../../src/adapters/etcd/kv.js';
import { startPvsync, until, type PvsyncProcess } from './processes.js';

/** One installation of a test: name, endpoints, root, API URLs. */
export interface TestInstallation {
  readonly name: string;
  readonly endpoints: readonly string[];
  readonly root: string;
  readonly api?: readonly string[];
  readonly networks?: readonly string[];
}

/**
 * Write an installations.yml where `primary` is the primary of every data type and `secondary` its replica; with
 * `twoWayIocs` the secondary also publishes IOCs of its own, replicated to the primary.
 */
export function writeInstallations(dir: string, primary: TestInstallation, secondary: TestInstallation, opts: { twoWayIocs?: boolean } = {}): string {
  const inst = (i: TestInstallation): Record<string, unknown> => ({
    etcd: { endpoints: [...i.endpoints], root: i.root }, api: [...(i.api ?? ['http://127.0.0.1:1'])], networks: [...(i.networks ?? [])],
  });
  const flow = { primary: primary.name, replicas: [secondary.name] };
  const file = join(dir, `installations-${primary.name}-${secondary.name}.yml`);
  writeFileSync(file, stringify({
    installations: { [primary.name]: inst(primary), [secondary.name]: inst(secondary) },
    data: { iocs: opts.twoWayIocs === true ? [flow, { primary: secondary.name, replicas: [primary.name] }] : [flow], api: flow, archiver: flow },
  }));
  return file;
}

/** Start `pvsync replicate` for one flow. */
export function startReplicator(file: string, type: DataType, from: string, to: string, extra: readonly string[] = []): PvsyncProcess {
  return startPvsync(['replicate', '--installations', file, '--type', type, '--from', from, '--to', to, '--lease-ttl', '2', ...extra]);
}

/** The data type's keys at the primary, by key relative to the root. */
export async function sourceState(client: Etcd3, root: string, type: DataType): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of DATA_TYPES[type]) {
    for (const kv of (await rangePrefix(client, `${root}${p}`)).kvs) out.set(kv.key.slice(root.length), kv.value.toString());
  }
  return out;
}

/** The replica of the data type at the secondary, by key relative to the source root. */
export async function replicaState(client: Etcd3, keys: ReplicationKeys): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const p of keys.targetPrefixes) {
    for (const kv of (await rangePrefix(client, p)).kvs) out.set(kv.key.slice(keys.replicaRoot.length), kv.value.toString());
  }
  return out;
}

/** The flow's checkpoint at the secondary, or null. */
export async function checkpointOf(client: Etcd3, keys: ReplicationKeys): Promise<Checkpoint | null> {
  const v = await client.get(keys.checkpoint).string();
  return v === null ? null : CheckpointSchema.parse(JSON.parse(v));
}

/** Wait until the replica equals the source (same keys, same values); returns the final state. */
export async function untilConverged(source: Etcd3, target: Etcd3, keys: ReplicationKeys, timeoutMs = 30_000): Promise<Map<string, string>> {
  let last = new Map<string, string>();
  await until(`replica of ${keys.type} equals its source`, async () => {
    const [a, b] = await Promise.all([sourceState(source, keys.sourceRoot, keys.type), replicaState(target, keys)]);
    last = a;
    return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
  }, timeoutMs);
  return last;
}
