/**
 * The config files of pvsync, each loaded by the one loader (adapters/yaml/config-file.ts) against its schema: the
 * local cluster's description (etcd-cluster.yml) and the users of the HTTP API (`serve --auth-file`). The
 * archiver-agent's `--config` loads the same way in archiver-config.ts.
 */
import { loadConfigFile } from '../adapters/yaml/config-file.js';
import { ClusterSpecSchema, type ClusterSpec } from '../adapters/local-etcd/cluster-spec.js';
import { AuthFileSchema, type AuthFile } from '../core/auth/principal.js';

/** Read and validate a YAML cluster description (etcd-cluster.yml). */
export async function loadClusterSpec(path: string): Promise<ClusterSpec> {
  return loadConfigFile(path, ClusterSpecSchema, { what: 'cluster description' });
}

/** Read and validate an auth file (YAML or JSON); PVS_CONFIG naming the file and the field when it is wrong. */
export async function loadAuthFile(path: string): Promise<AuthFile> {
  return loadConfigFile(path, AuthFileSchema, { what: 'auth file' });
}
