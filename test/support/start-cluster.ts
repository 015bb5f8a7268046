/**
 * Start a throwaway 3-member etcd cluster for tests: the timing of etcd-cluster.yml on free ports below 32768, data
 * in a temp dir. No vitest imports, so global setup (main process) and test files can both use it.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterSpec } from '../../src/adapters/local-etcd/cluster-spec.js';
import { ensureEtcd } from '../../src/adapters/local-etcd/install.js';
import { LocalCluster } from '../../src/adapters/local-etcd/local-cluster.js';
import { freePorts } from './free-ports.js';
import { stopOnce } from './stop-once.js';
import { loadClusterSpec } from '../../src/apps/config-files.js';

/** etcd-cluster.yml at the repository root. */
export const CLUSTER_YML = fileURLToPath(new URL('../../etcd-cluster.yml', import.meta.url));

/** What a test process needs to attach to a running test cluster (plain data: crosses to workers via provide). */
export interface TestClusterInfo {
  readonly endpoints: string[];
  readonly stateDir: string;
  readonly spec: ClusterSpec;
  readonly etcdBin: string;
}

/** A started test cluster and how to get rid of it. */
export interface StartedCluster {
  readonly info: TestClusterInfo;
  readonly cluster: LocalCluster;
  /** Stop every member and delete the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** `base` with its members renamed and moved to `ports` (client, peer pairs) and its own cluster token. */
export function specOnPorts(base: ClusterSpec, ports: readonly number[], token: string): ClusterSpec {
  if (ports.length < 2 * base.members.length) throw new Error(`need ${2 * base.members.length} ports`);
  return {
    ...base,
    token,
    members: base.members.map((m, i) => ({ name: m.name, clientPort: ports[2 * i] ?? 0, peerPort: ports[2 * i + 1] ?? 0 })),
  };
}

/** Etcd binary (installed when missing and root), from the environment of this test process. */
export function testEtcdBin(): Promise<string> {
  return ensureEtcd({ searchPath: process.env['PATH'] ?? '', isRoot: process.getuid?.() === 0 });
}

/**
 * Start a cluster like etcd-cluster.yml on fresh free ports in a new temp dir; retried on other ports when a port
 * was taken meanwhile. Members left running by a crash are SIGKILLed when this process exits.
 */
export async function startTestCluster(label: string, opts: { members?: number } = {}): Promise<StartedCluster> {
  const etcdBin = await testEtcdBin();
  const full = await loadClusterSpec(CLUSTER_YML);
  // A smaller cluster (one member: a second installation's etcd) keeps the timing of etcd-cluster.yml.
  const base = opts.members === undefined ? full : { ...full, members: full.members.slice(0, opts.members) };
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const stateDir = await mkdtemp(join(tmpdir(), `pvsync-${label}-`));
    const spec = specOnPorts(base, await freePorts(2 * base.members.length), `pvsync-${label}-${process.pid}-${attempt}`);
    const cluster = new LocalCluster(spec, stateDir, { etcdBin });
    const stop = stopCluster(cluster, stateDir);
    try {
      const endpoints = await cluster.up();
      return { info: { endpoints, stateDir: resolve(stateDir), spec, etcdBin }, cluster, stop };
    } catch (err) {
      lastError = err;
      await stop();
    }
  }
  throw lastError;
}

/** The stop of a test cluster: every member stopped and its state dir deleted, once (see stopOnce). */
export function stopCluster(cluster: LocalCluster, stateDir: string): () => Promise<void> {
  return stopOnce({ stop: () => cluster.down(), killSync: () => killLeftovers(cluster), dir: stateDir });
}

/** Synchronous last resort (usable in an 'exit' handler): SIGKILL every member whose pid file names our etcd. */
export function killLeftovers(cluster: LocalCluster): void {
  for (const name of cluster.memberNames) {
    try {
      const pid = Number.parseInt(readFileSync(join(cluster.memberDir(name), 'etcd.pid'), 'utf8'), 10);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(cluster.memberDir(name))) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file, or the process is gone
    }
  }
}
