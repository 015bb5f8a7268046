/**
 * The description of a local etcd cluster (etcd-cluster.yml): members, ports and timing, validated with zod, and the
 * etcd 3.4 command-line flags each member runs with. deploy/ carries the same flags for real hosts.
 */
import { z } from 'zod';
import { checkConfig } from '../../core/config-check.js';
import { PvsError } from '../../core/errors.js';

const port = z.number().int().min(1).max(65535);

/** One member: a name (also its directory name in the state dir) and its client and peer ports. */
export const MemberSpecSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-", at most 63'),
  clientPort: port,
  peerPort: port,
});

/** The whole cluster; timing, compaction and quota apply to every member. */
export const ClusterSpecSchema = z.strictObject({
  token: z.string().min(1),
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, 'an IP address or host name'),
  members: z.array(MemberSpecSchema).min(1).max(7),
  heartbeatIntervalMs: z.number().int().min(10).max(10_000),
  electionTimeoutMs: z.number().int().min(50).max(50_000),
  preVote: z.boolean(),
  autoCompaction: z.strictObject({
    mode: z.enum(['revision', 'periodic']),
    // etcd takes a string: a revision count, or a duration like "1h" / an hour count in periodic mode.
    retention: z.union([z.string().regex(/^[0-9]+(\.[0-9]+)?[hms]?$/, 'a count or a duration like "1h"'), z.number()])
      .transform((v) => String(v)),
  }),
  quotaBackendBytes: z.number().int().min(0).max(8 * 1024 ** 3),
  snapshotCount: z.number().int().min(1).default(10_000),
}).superRefine((spec, ctx) => {
  // etcd refuses to start otherwise ("election-timeout should be at least as 5 times as heartbeat-interval").
  if (spec.electionTimeoutMs < 5 * spec.heartbeatIntervalMs) {
    ctx.addIssue({ code: 'custom', path: ['electionTimeoutMs'], message: 'must be at least 5 x heartbeatIntervalMs' });
  }
  const names = new Set<string>();
  const ports = new Set<number>();
  spec.members.forEach((m, i) => {
    if (names.has(m.name)) ctx.addIssue({ code: 'custom', path: ['members', i, 'name'], message: `duplicate "${m.name}"` });
    names.add(m.name);
    for (const key of ['clientPort', 'peerPort'] as const) {
      if (ports.has(m[key])) ctx.addIssue({ code: 'custom', path: ['members', i, key], message: `port ${m[key]} used twice` });
      ports.add(m[key]);
    }
  });
});

/** A validated cluster description (plain data: safe to serialize and pass to another process). */
export type ClusterSpec = z.output<typeof ClusterSpecSchema>;
/** One validated member. */
export type MemberSpec = z.output<typeof MemberSpecSchema>;

/** Validate a parsed document; errors are PVS_CONFIG naming the source and each failing field path. */
export function parseClusterSpec(value: unknown, source: string): ClusterSpec {
  return checkConfig(ClusterSpecSchema, value, source);
}

/** The member called `name`, or a PVS_CLUSTER error listing the known names. */
export function memberOf(spec: ClusterSpec, name: string): MemberSpec {
  const member = spec.members.find((m) => m.name === name);
  if (member === undefined) {
    throw new PvsError('PVS_CLUSTER', `no member "${name}" (members: ${spec.members.map((m) => m.name).join(', ')})`);
  }
  return member;
}

/** The client URL of a member, e.g. http://127.0.0.1:2379 (https:// when the cluster runs TLS). */
export function clientUrl(spec: ClusterSpec, member: MemberSpec, secure = false): string {
  return `${secure ? 'https' : 'http'}://${spec.host}:${member.clientPort}`;
}

/** The peer URL of a member, e.g. http://127.0.0.1:2380 (https:// when the cluster runs TLS). */
export function peerUrl(spec: ClusterSpec, member: MemberSpec, secure = false): string {
  return `${secure ? 'https' : 'http'}://${spec.host}:${member.peerPort}`;
}

/** The --initial-cluster value: name=peerURL for every member. */
export function initialCluster(spec: ClusterSpec, secure = false): string {
  return spec.members.map((m) => `${m.name}=${peerUrl(spec, m, secure)}`).join(',');
}

/**
 * TLS and authentication of one member (docs/security.md): its certificate and key (serving clients and peers, and
 * presented to peers), the CA every client and peer certificate must be signed by, and the simple token TTL.
 */
export interface MemberSecurity {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** --auth-token-ttl in seconds (etcd's default 300); tests shorten it to see tokens expire. */
  readonly authTokenTtlS?: number;
}

/** Whether a member starts a new cluster or rejoins with its existing data dir. */
export type InitialClusterState = 'new' | 'existing';

/** The etcd 3.4 flags of one member, as `--flag=value` strings (the same set deploy/ writes into env files). */
export function memberFlags(
  spec: ClusterSpec, member: MemberSpec, dataDir: string, state: InitialClusterState, security?: MemberSecurity,
): string[] {
  const secure = security !== undefined;
  const flags: Record<string, string> = {
    name: member.name,
    'data-dir': dataDir,
    'listen-client-urls': clientUrl(spec, member, secure),
    'advertise-client-urls': clientUrl(spec, member, secure),
    'listen-peer-urls': peerUrl(spec, member, secure),
    'initial-advertise-peer-urls': peerUrl(spec, member, secure),
    'initial-cluster': initialCluster(spec, secure),
    'initial-cluster-token': spec.token,
    'initial-cluster-state': state,
    'heartbeat-interval': String(spec.heartbeatIntervalMs),
    'election-timeout': String(spec.electionTimeoutMs),
    'pre-vote': String(spec.preVote),
    'auto-compaction-mode': spec.autoCompaction.mode,
    'auto-compaction-retention': spec.autoCompaction.retention,
    'quota-backend-bytes': String(spec.quotaBackendBytes),
    'snapshot-count': String(spec.snapshotCount),
    'enable-v2': 'false',
    logger: 'zap',
    'log-outputs': 'stderr',
  };
  if (security !== undefined) {
    // Clients and peers must present a certificate signed by the CA; a client's CN is its etcd user.
    Object.assign(flags, {
      'cert-file': security.certFile,
      'key-file': security.keyFile,
      'trusted-ca-file': security.caFile,
      'client-cert-auth': 'true',
      'peer-cert-file': security.certFile,
      'peer-key-file': security.keyFile,
      'peer-trusted-ca-file': security.caFile,
      'peer-client-cert-auth': 'true',
    });
    if (security.authTokenTtlS !== undefined) flags['auth-token-ttl'] = String(security.authTokenTtlS);
  }
  return Object.entries(flags).map(([k, v]) => `--${k}=${v}`);
}
