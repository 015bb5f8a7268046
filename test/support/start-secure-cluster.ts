/**
 * A throwaway secured 3-member etcd cluster for one test file (the suite's shared cluster stays plain): TLS on client
 * and peer URLs, client certificates required, authentication on with root = certificate CN "root", made the way
 * `pvsync cluster up --secure` does it, on free ports in a temp dir. `credentials()` creates a component's etcd user
 * and role (src/core/security/roles.ts) and issues its certificate, as `pvsync security add` does.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { createEtcdClient, type EtcdSecurity } from '../../src/adapters/etcd/client.js';
import { applyRolePlan } from '../../src/adapters/etcd/etcd-auth.js';
import { LocalCluster, clusterTlsFiles } from '../../src/adapters/local-etcd/local-cluster.js';
import { OpensslCa } from '../../src/adapters/pki/openssl.js';
import { enableClusterAuth, prepareClusterTls, rootSecurity, tlsDirOf } from '../../src/apps/cluster-security.js';
import { rolePlan, type Identity, type RolePlan } from '../../src/core/security/roles.js';
import { freePorts } from './free-ports.js';
import { CLUSTER_YML, specOnPorts, stopCluster, testEtcdBin } from './start-cluster.js';
import { loadClusterSpec } from '../../src/apps/config-files.js';

/** Files of one component's identity, as the CLI takes them (`--etcd-ca`, `--etcd-cert`, `--etcd-key`, …). */
export interface IdentityFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly user?: string;
  readonly passwordFile?: string;
}

/** A component's identity: its plan, its files and the same loaded for createEtcdClient. */
export interface Credentials {
  readonly plan: RolePlan;
  readonly files: IdentityFiles;
  readonly security: EtcdSecurity;
  /** The CLI flags of this identity. */
  readonly flags: string[];
}

/** A started secured cluster. */
export interface SecureCluster {
  readonly cluster: LocalCluster;
  readonly endpoints: string[];
  readonly tlsDir: string;
  /** The CA alone: a client with it but no certificate. */
  readonly caOnly: EtcdSecurity;
  /** Root's identity (certificate CN root). */
  readonly root: EtcdSecurity;
  /** A client as root, with call deadlines. */
  rootClient(): Etcd3;
  /** Create the identity's etcd user and role and issue its certificate (CN = the user). */
  credentials(identity: Identity, keyRoot: string): Promise<Credentials>;
  /**
   * A password user holding one role with `permissions`, logging in with a password over TLS (it presents the
   * probe certificate, which has no CN: the token, not the certificate, says who it is).
   */
  passwordUser(plan: RolePlan, password: string): Promise<Credentials>;
  stop(): Promise<void>;
}

/** Start a secured cluster like etcd-cluster.yml on free ports; `authTokenTtlS` shortens password tokens' life. */
export async function startSecureTestCluster(label: string, opts: { authTokenTtlS?: number } = {}): Promise<SecureCluster> {
  const etcdBin = await testEtcdBin();
  const base = await loadClusterSpec(CLUSTER_YML);
  const stateDir = resolve(await mkdtemp(join(tmpdir(), `pvsync-${label}-`)));
  const tlsDir = tlsDirOf(stateDir);
  const spec = specOnPorts(base, await freePorts(2 * base.members.length), `pvsync-${label}-${process.pid}`);
  await prepareClusterTls(spec, tlsDir);
  const security = { dir: tlsDir, ...(opts.authTokenTtlS === undefined ? {} : { authTokenTtlS: opts.authTokenTtlS }) };
  const cluster = new LocalCluster(spec, stateDir, { etcdBin, security });
  const stop = stopCluster(cluster, stateDir);
  try {
    await cluster.up();
    await enableClusterAuth(cluster, tlsDir);
  } catch (err) {
    await stop();
    throw err;
  }
  const files = clusterTlsFiles(tlsDir);
  const ca = readFileSync(files.ca);
  const root = rootSecurity(tlsDir);
  const rootClient = (): Etcd3 => createEtcdClient(cluster.endpoints, { security: root, callTimeoutMs: 5000, dialTimeoutMs: 2000 });
  const pki = new OpensslCa(tlsDir);
  const clientsDir = join(stateDir, 'clients');
  const withRoot = async <T>(fn: (c: Etcd3) => Promise<T>): Promise<T> => {
    const c = rootClient();
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  };
  return {
    cluster, endpoints: cluster.endpoints, tlsDir, caOnly: { ca }, root, rootClient, stop,
    async credentials(identity, keyRoot) {
      const plan = rolePlan(identity, keyRoot);
      await withRoot((c) => applyRolePlan(c, plan));
      const issued = await pki.issue(clientsDir, plan.user, { commonName: plan.user });
      const f: IdentityFiles = { ca: files.ca, cert: issued.cert, key: issued.key };
      return {
        plan, files: f,
        security: { ca, cert: readFileSync(issued.cert), key: readFileSync(issued.key) },
        flags: ['--etcd-ca', f.ca, '--etcd-cert', f.cert, '--etcd-key', f.key],
      };
    },
    async passwordUser(plan, password) {
      await withRoot((c) => applyRolePlan(c, plan, password));
      await mkdir(clientsDir, { recursive: true, mode: 0o700 });
      const passwordFile = join(clientsDir, `${plan.user}.password`);
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      const f: IdentityFiles = { ca: files.ca, cert: files.probe.cert, key: files.probe.key, user: plan.user, passwordFile };
      return {
        plan, files: f,
        security: { ca, cert: readFileSync(f.cert), key: readFileSync(f.key), user: plan.user, password },
        flags: ['--etcd-ca', f.ca, '--etcd-cert', f.cert, '--etcd-key', f.key, '--etcd-user', plan.user,
          '--etcd-password-file', passwordFile],
      };
    },
  };
}
