// deploy/ (systemd env files, compose) must run the topology and tuning of etcd-cluster.yml: same member names,
// ports and flags; only host names, data dirs and the cluster token may differ.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClusterSpec, memberFlags, type ClusterSpec, type MemberSpec } from '../../../src/adapters/etcd/cluster-spec.js';

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
  for (const flag of memberFlags(spec, member, '/data', 'new')) {
    const eq = flag.indexOf('=');
    env[`ETCD_${flag.slice(2, eq).toUpperCase().replaceAll('-', '_')}`] = flag.slice(eq + 1);
  }
  return env;
}

const HOST_FREE = ['ETCD_HEARTBEAT_INTERVAL', 'ETCD_ELECTION_TIMEOUT', 'ETCD_PRE_VOTE', 'ETCD_AUTO_COMPACTION_MODE',
  'ETCD_AUTO_COMPACTION_RETENTION', 'ETCD_QUOTA_BACKEND_BYTES', 'ETCD_SNAPSHOT_COUNT', 'ETCD_ENABLE_V2', 'ETCD_LOGGER',
  'ETCD_LOG_OUTPUTS', 'ETCD_NAME', 'ETCD_INITIAL_CLUSTER_STATE'];

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
    expect(parseEnvFile(read('deploy/pvsync.env'))['PVSYNC_ENDPOINTS']).toBe(clients.join(','));
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
    expect(doc.services['pvsync-serve']?.environment?.['PVSYNC_ENDPOINTS']).toBe(clients.join(','));
  });
});
