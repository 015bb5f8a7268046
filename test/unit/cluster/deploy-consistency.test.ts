// deploy/ (systemd env files, compose) must run the topology and tuning of etcd-cluster.yml: same member names,
// ports and flags; only host names, data dirs and the cluster token may differ.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { memberFlags, type ClusterSpec, type MemberSpec } from '../../../src/adapters/local-etcd/cluster-spec.js';
import { loadClusterSpec } from '../../../src/apps/config-files.js';

const repo = (p: string): string => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const read = (p: string): string => readFileSync(repo(p), 'utf8');

/** KEY=VALUE lines of an env file, comments and blanks skipped. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) env[m[1]] = m[2] ?? '';
  }
  return env;
}

/** etcd reads flag `--foo-bar` from ETCD_FOO_BAR: the env form of the flags LocalCluster passes. */
function flagsAsEnv(spec: ClusterSpec, member: MemberSpec): Record<string, string> {
  const env: Record<string, string> = {};
  // deploy/ runs TLS with client certificates (docs/security.md): the flags of a secured member, file paths aside.
  const tls = { certFile: '/tls/m.crt', keyFile: '/tls/m.key', caFile: '/tls/ca.crt' };
  for (const flag of memberFlags(spec, member, '/data', 'new', tls)) {
    const eq = flag.indexOf('=');
    env[`ETCD_${flag.slice(2, eq).toUpperCase().replaceAll('-', '_')}`] = flag.slice(eq + 1);
  }
  return env;
}

const HOST_FREE = ['ETCD_HEARTBEAT_INTERVAL', 'ETCD_ELECTION_TIMEOUT', 'ETCD_PRE_VOTE', 'ETCD_AUTO_COMPACTION_MODE',
  'ETCD_AUTO_COMPACTION_RETENTION', 'ETCD_QUOTA_BACKEND_BYTES', 'ETCD_SNAPSHOT_COUNT', 'ETCD_ENABLE_V2', 'ETCD_LOGGER',
  'ETCD_LOG_OUTPUTS', 'ETCD_NAME', 'ETCD_INITIAL_CLUSTER_STATE', 'ETCD_CLIENT_CERT_AUTH', 'ETCD_PEER_CLIENT_CERT_AUTH'];

const port = (url: string): number => Number(new URL(url).port);
const host = (url: string): string => new URL(url).hostname;

/** Check one member's deployed env against the spec; returns its advertised client URL. */
function checkMember(spec: ClusterSpec, member: MemberSpec, env: Record<string, string>): string {
  const want = flagsAsEnv(spec, member);
  expect(Object.keys(env).sort()).toEqual(Object.keys(want).sort());
  for (const key of HOST_FREE) expect({ key, value: env[key] }).toEqual({ key, value: want[key] });
  const urls = (key: string): string[] => (env[key] ?? '').split(',');
  for (const url of urls('ETCD_LISTEN_CLIENT_URLS')) expect(port(url)).toBe(member.clientPort);
  for (const url of urls('ETCD_LISTEN_PEER_URLS')) expect(port(url)).toBe(member.peerPort);
  const advertisedClient = env['ETCD_ADVERTISE_CLIENT_URLS'] ?? '';
  const advertisedPeer = env['ETCD_INITIAL_ADVERTISE_PEER_URLS'] ?? '';
  expect(port(advertisedClient)).toBe(member.clientPort);
  expect(port(advertisedPeer)).toBe(member.peerPort);
  expect(host(advertisedClient)).toBe(host(advertisedPeer));
  // --initial-cluster: the same names and peer ports in the same order, and this member's own entry is its peer URL.
  const cluster = urls('ETCD_INITIAL_CLUSTER').map((entry) => entry.split('='));
  expect(cluster.map(([name, url]) => [name, port(url ?? '')])).toEqual(spec.members.map((m) => [m.name, m.peerPort]));
  expect(cluster.find(([name]) => name === member.name)?.[1]).toBe(advertisedPeer);
  // Every URL is https; the member serves clients and peers with one certificate and trusts one CA.
  for (const key of ['ETCD_LISTEN_CLIENT_URLS', 'ETCD_ADVERTISE_CLIENT_URLS', 'ETCD_LISTEN_PEER_URLS', 'ETCD_INITIAL_ADVERTISE_PEER_URLS']) {
    for (const url of urls(key)) expect({ key, url: url.slice(0, 8) }).toEqual({ key, url: 'https://' });
  }
  for (const [, url] of cluster) expect(url?.startsWith('https://')).toBe(true);
  expect(env['ETCD_PEER_CERT_FILE']).toBe(env['ETCD_CERT_FILE']);
  expect(env['ETCD_PEER_KEY_FILE']).toBe(env['ETCD_KEY_FILE']);
  expect(env['ETCD_PEER_TRUSTED_CA_FILE']).toBe(env['ETCD_TRUSTED_CA_FILE']);
  expect(env['ETCD_CERT_FILE']).toMatch(new RegExp(`/${member.name}\\.crt$`));
  return advertisedClient;
}

describe('deploy/ matches etcd-cluster.yml', () => {
  let spec: ClusterSpec;
  beforeAll(async () => {
    spec = await loadClusterSpec(repo('etcd-cluster.yml'));
  });

  it('systemd: one env file per member with the same flags, token shared by all, endpoints in pvsync.env', () => {
    const clients: string[] = [];
    const tokens = new Set<string>();
    for (const m of spec.members) {
      const env = parseEnvFile(read(`deploy/etcd/${m.name}.env`));
      clients.push(checkMember(spec, m, env));
      tokens.add(env['ETCD_INITIAL_CLUSTER_TOKEN'] ?? '');
      expect(env['ETCD_DATA_DIR']).toBe(`/var/lib/pvsync/${m.name}`);
    }
    expect(tokens.size).toBe(1);
    const shared = parseEnvFile(read('deploy/pvsync.env'));
    expect(shared['PVSYNC_ENDPOINTS']).toBe(clients.join(','));
    expect(shared['PVSYNC_ETCD_CA']).toBe('/etc/pvsync/tls/ca.crt');
    for (const m of spec.members) {
      expect(parseEnvFile(read(`deploy/etcd/${m.name}.env`))['ETCD_TRUSTED_CA_FILE']).toBe(shared['PVSYNC_ETCD_CA']);
    }
    // Each pvsync unit runs with its own etcd identity (least privilege): the API's, and one per IOC.
    expect(read('deploy/systemd/pvsync-serve.service')).toMatch(/^Environment=PVSYNC_ETCD_CERT=\/etc\/pvsync\/tls\/pvsync-api\.crt PVSYNC_ETCD_KEY=\/etc\/pvsync\/tls\/pvsync-api\.key$/m);
    expect(read('deploy/systemd/pvsync-upload@.service')).toMatch(/^Environment=PVSYNC_ETCD_CERT=\/etc\/pvsync\/tls\/%i@%H\.crt PVSYNC_ETCD_KEY=\/etc\/pvsync\/tls\/%i@%H\.key$/m);
    const unit = read('deploy/systemd/pvsync-etcd@.service');
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/pvsync\/%i\.env$/m);
    // StateDirectory creates the data dir the env file names.
    expect(unit).toMatch(/^StateDirectory=pvsync\/%i$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/etcd$/m);
  });

  it('compose: one etcd service per member with the same flags, and pvsync serve on all three', () => {
    const doc = parseYaml(read('deploy/compose.yml'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; ports?: string[] }>;
    };
    const clients = spec.members.map((m) => {
      const svc = doc.services[m.name];
      expect(svc).toBeDefined();
      expect(svc?.ports).toEqual([`127.0.0.1:${m.clientPort}:${m.clientPort}`]);
      return checkMember(spec, m, svc?.environment ?? {});
    });
    const serve = doc.services['pvsync-serve']?.environment ?? {};
    expect(serve['PVSYNC_ENDPOINTS']).toBe(clients.join(','));
    expect(serve).toMatchObject({ PVSYNC_ETCD_CA: '/tls/ca.crt', PVSYNC_ETCD_CERT: '/tls/pvsync-api.crt', PVSYNC_ETCD_KEY: '/tls/pvsync-api.key' });
    for (const m of spec.members) expect(doc.services[m.name]?.environment?.['ETCD_TRUSTED_CA_FILE']).toBe(serve['PVSYNC_ETCD_CA']);
  });
});
