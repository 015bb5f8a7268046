/**
 * The secured local cluster (`pvsync cluster up --secure`, docs/security.md): a CA and certificates made with openssl
 * in `<state-dir>/tls/`, TLS on client and peer URLs, and etcd authentication with a `root` user whose identity is
 * the client certificate `root.crt` (CN root). Composes the pki and etcd adapters; shared by the CLI and the tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, type EtcdSecurity } from '../adapters/etcd/client.js';
import type { ClusterSpec } from '../adapters/local-etcd/cluster-spec.js';
import { enableAuth } from '../adapters/etcd/etcd-auth.js';
import { clusterTlsFiles, type LocalCluster } from '../adapters/local-etcd/local-cluster.js';
import { OpensslCa } from '../adapters/pki/openssl.js';
import { PvsError } from '../core/errors.js';

/** The TLS dir of a state dir: `<state-dir>/tls`. A state dir with `tls/ca.crt` holds a secured cluster. */
export function tlsDirOf(stateDir: string): string {
  return join(stateDir, 'tls');
}

/** True when the cluster of this state dir was set up secured (its CA exists). */
export function isSecureStateDir(stateDir: string): boolean {
  return existsSync(clusterTlsFiles(tlsDirOf(stateDir)).ca);
}

/** The root user's client certificate (CN root) in a TLS dir. */
export function rootCertFiles(tlsDir: string): { cert: string; key: string } {
  return { cert: join(tlsDir, 'root.crt'), key: join(tlsDir, 'root.key') };
}

/**
 * Make whatever is missing in `tlsDir`: the CA, one certificate per member (SANs IP:127.0.0.1, DNS:localhost and
 * the spec's host), the probe certificate (no CN, for /health and the status gateway) and root's client certificate.
 */
export async function prepareClusterTls(spec: ClusterSpec, tlsDir: string): Promise<void> {
  const ca = new OpensslCa(tlsDir);
  await ca.ensure();
  const files = clusterTlsFiles(tlsDir);
  const host = /^[0-9.]+$|:/.test(spec.host) ? `IP:${spec.host}` : `DNS:${spec.host}`;
  const altNames = [...new Set(['IP:127.0.0.1', 'DNS:localhost', host])];
  for (const m of spec.members) {
    const own = files.member(m.name);
    if (!existsSync(own.cert) || !existsSync(own.key)) await ca.issue(tlsDir, `member-${m.name}`, { commonName: m.name, altNames });
  }
  if (!existsSync(files.probe.cert)) await ca.issue(tlsDir, 'probe', {});
  if (!existsSync(rootCertFiles(tlsDir).cert)) await ca.issue(tlsDir, 'root', { commonName: 'root' });
}

/** The root identity of a secured cluster: its CA and root's client certificate. */
export function rootSecurity(tlsDir: string): EtcdSecurity {
  const root = rootCertFiles(tlsDir);
  const read = (path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new PvsError('PVS_CLUSTER', `cannot read ${path} of the secured cluster`, { cause: err });
    }
  };
  return { ca: read(clusterTlsFiles(tlsDir).ca), cert: read(root.cert), key: read(root.key) };
}

/** Turn etcd authentication on in a running secured cluster (root = the certificate CN root); idempotent. */
export async function enableClusterAuth(cluster: LocalCluster, tlsDir: string): Promise<void> {
  const client: Etcd3 = createEtcdClient(cluster.endpoints, { security: rootSecurity(tlsDir), callTimeoutMs: 5000 });
  try {
    await enableAuth(client);
  } finally {
    client.close();
  }
}
