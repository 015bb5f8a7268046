/**
 * Creating etcd3 clients the way pvsync needs them: a deadline on every unary call (etcd3 has none by default),
 * responses up to 64 MiB, every endpoint of the cluster listed (the client does no member discovery), every call
 * marked "require leader", and members that do not answer or have no leader isolated (member-guard.ts,
 * member-prober.ts) so that calls and streams go to the others at once.
 */
import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import { pino, type Logger } from 'pino';
import { MemberGuards } from './member-guard.js';
import { DEFAULT_PROBE_TIMEOUT_MS, MemberProber, type ProberOptions } from './member-prober.js';
import { requireLeader } from './require-leader.js';
import { reauthenticateWatches } from './watch-reauth.js';

/**
 * How to prove who we are to a secured etcd (docs/security.md): the CA that signed etcd's certificates, our client
 * certificate and key (PEM; with `--client-cert-auth` its CN is our etcd user), and optionally a user and password.
 */
export interface EtcdSecurity {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly user?: string;
  readonly password?: string;
}

/** Options of an etcd client. */
export interface EtcdClientOptions {
  /** Deadline of one unary call in ms (default 5000). */
  readonly callTimeoutMs?: number;
  /** Time to wait for a connection in ms (default 3000). */
  readonly dialTimeoutMs?: number;
  /** TLS and authentication; none for a plain cluster. */
  readonly security?: EtcdSecurity;
  /** Member probes (default on with 250 ms rounds and 500 ms deadlines when there are several endpoints). */
  readonly probe?: ProberOptions | false;
  /** Where member isolation is logged (default: nowhere). */
  readonly log?: Logger;
}

/** An etcd3 client that knows which members it avoids; `close()` also stops its member probes. */
export class PvsEtcdClient extends Etcd3 {
  constructor(options: IOptions, readonly members: MemberGuards, private readonly prober: MemberProber | null) {
    super(options);
    prober?.start();
  }

  override close(): void {
    this.prober?.stop();
    super.close();
  }
}

/** The member guards of a client made by createEtcdClient (undefined for any other client). */
export function memberGuardsOf(client: Etcd3): MemberGuards | undefined {
  return client instanceof PvsEtcdClient ? client.members : undefined;
}

/** Make a client for the given endpoints (`http://host:port`, or `https://` with `security`). */
export function createEtcdClient(endpoints: readonly string[], opts: EtcdClientOptions = {}): PvsEtcdClient {
  const callTimeout = opts.callTimeoutMs ?? 5000;
  const log = (opts.log ?? pino({ level: 'silent' })).child({ component: 'etcd-members' });
  const base = {
    ...securityOptions(opts.security),
    dialTimeout: opts.dialTimeoutMs ?? 3000,
    grpcOptions: {
      // grpc-js refuses responses over 4 MiB by default; our ranges are paged, but leave headroom.
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A channel of its own per service and host: a host reset after isolation really opens new connections
      // instead of reusing one that a partition left half-dead.
      'grpc.use_local_subchannel_pool': 1,
    },
  };
  const probed = opts.probe !== false && endpoints.length >= 2;
  const probeTimeoutMs = (opts.probe === false ? undefined : opts.probe?.timeoutMs) ?? DEFAULT_PROBE_TIMEOUT_MS;
  const guards = new MemberGuards(endpoints, log, probed, Date.now, probeTimeoutMs);
  const prober = !probed ? null : new MemberProber(guards, (member) => new Etcd3({
    ...base, hosts: [member], faultHandling: { host: () => noop, global: noop },
  }), log, opts.probe ?? {});
  const client = new PvsEtcdClient({
    ...base,
    hosts: [...endpoints],
    grpcOptions: {
      ...base.grpcOptions,
      interceptors: [requireLeader],
      // Backstop for a silent connection the probes do not catch (e.g. this client cut off from every member):
      // ping every 10 s while calls are open. etcd answers pings more often than --grpc-keepalive-min-time
      // (5 s by default) with GOAWAY too_many_pings, so never go below that.
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
    faultHandling: { host: (member) => guards.policyFor(member) },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeout }),
  }, guards, prober);
  // Password tokens expire; watch streams keep the token they were opened with (see watch-reauth.ts).
  if (opts.security?.user !== undefined) reauthenticateWatches(client);
  return client;
}

/** The etcd3 constructor options for `security`: `credentials` (TLS) and `auth` (user and password). */
export function securityOptions(security: EtcdSecurity | undefined): Pick<IOptions, 'credentials' | 'auth'> {
  if (security === undefined) return {};
  const out: Pick<IOptions, 'credentials' | 'auth'> = {};
  if (security.ca !== undefined || security.cert !== undefined) {
    out.credentials = {
      // grpc-js takes null for "the system's CAs"; etcd3's type says Buffer only.
      rootCertificate: security.ca ?? (null as unknown as Buffer),
      ...(security.key === undefined ? {} : { privateKey: security.key }),
      ...(security.cert === undefined ? {} : { certChain: security.cert }),
    };
  }
  if (security.user !== undefined) out.auth = { username: security.user, password: security.password ?? '' };
  return out;
}
