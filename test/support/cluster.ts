/**
 * Helpers for integration tests on the shared etcd cluster that test/global-setup.ts starts: attach to it (to stop
 * and restart members), its endpoints, a client with deadlines, and a unique key root per test for isolation.
 */
import { randomBytes } from 'node:crypto';
import type { Etcd3 } from 'etcd3';
import { inject } from 'vitest';
import { createEtcdClient } from '../../src/adapters/etcd/client.js';
import { LocalCluster } from '../../src/adapters/local-etcd/local-cluster.js';
import type { TestClusterInfo } from './start-cluster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared 3-member etcd cluster of the integration project. */
    etcd: TestClusterInfo;
  }
}

/** The shared cluster as a LocalCluster: `stopMember`/`startMember`/`leader()` act on the real processes. */
export async function testCluster(): Promise<LocalCluster> {
  const { spec, stateDir, etcdBin } = inject('etcd');
  return new LocalCluster(spec, stateDir, { etcdBin, stopTimeoutMs: 10_000, healthTimeoutMs: 30_000 });
}

/** Client URLs of the shared cluster's members. */
export function testEndpoints(): string[] {
  return [...inject('etcd').endpoints];
}

/** A fresh keyspace root such as `/pvsync-test/mirror-3f9a2c1b/`, so tests never see each other's keys. */
export function uniqueRoot(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '-');
  return `/pvsync-test/${safe}-${randomBytes(4).toString('hex')}/`;
}

/** The deadline of one call of an `etcdClient` (a write in flight when quorum goes fails only after it). */
export const TEST_CALL_TIMEOUT_MS = 5000;

/** An etcd3 client on the shared cluster (or `endpoints`) with call deadlines; close it in afterAll. */
export function etcdClient(endpoints: readonly string[] = testEndpoints()): Etcd3 {
  return createEtcdClient(endpoints, { callTimeoutMs: TEST_CALL_TIMEOUT_MS, dialTimeoutMs: 2000 });
}

/**
 * The transactions the member at `clientUrl` has received (its gRPC server started) and answered (handled), from its
 * /metrics. Equal counts after a thaw: the requests that waited in its sockets have all been answered.
 */
export async function memberTxns(clientUrl: string): Promise<{ started: number; handled: number }> {
  const text = await (await fetch(`${clientUrl}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  const total = (metric: string): number => text.split('\n')
    .filter((l) => l.startsWith(`${metric}{`) && l.includes('grpc_method="Txn"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { started: total('grpc_server_started_total'), handled: total('grpc_server_handled_total') };
}

/**
 * Stop two of the shared cluster's three members (SIGKILL: quorum lost), run `during`, then start them again and
 * wait until every member is healthy, whatever `during` did.
 */
export async function withoutQuorum(during: () => Promise<void>): Promise<void> {
  const cluster = await testCluster();
  const [m1, m2] = cluster.memberNames;
  if (m1 === undefined || m2 === undefined) throw new Error('the shared cluster has fewer than two members');
  await cluster.stopMember(m1, 'SIGKILL');
  await cluster.stopMember(m2, 'SIGKILL');
  try {
    await during();
  } finally {
    await cluster.startMember(m1);
    await cluster.startMember(m2);
    await cluster.waitHealthy();
  }
}
