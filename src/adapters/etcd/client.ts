/**
 * Creating etcd3 clients the way pvsync needs them: a deadline on every unary call (etcd3 has none by default),
 * responses up to 64 MiB, and every endpoint of the cluster listed (the client does no member discovery).
 */
import { Etcd3, type IOptions } from 'etcd3';
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
}

/** Make a client for the given endpoints (`http://host:port`, or `https://` with `security`). */
export function createEtcdClient(endpoints: readonly string[], opts: EtcdClientOptions = {}): Etcd3 {
  const callTimeout = opts.callTimeoutMs ?? 5000;
  const client = new Etcd3({
    hosts: [...endpoints],
    dialTimeout: opts.dialTimeoutMs ?? 3000,
    // grpc-js refuses responses over 4 MiB by default; our ranges are paged, but leave headroom.
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeout }),
    ...securityOptions(opts.security),
  });
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
