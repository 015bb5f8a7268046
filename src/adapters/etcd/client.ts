/**
 * Creating etcd3 clients the way pvsync needs them: a deadline on every unary call (etcd3 has none by default),
 * responses up to 64 MiB, and every endpoint of the cluster listed (the client does no member discovery).
 */
import { Etcd3 } from 'etcd3';

/** Options of an etcd client. */
export interface EtcdClientOptions {
  /** Deadline of one unary call in ms (default 5000). */
  readonly callTimeoutMs?: number;
  /** Time to wait for a connection in ms (default 3000). */
  readonly dialTimeoutMs?: number;
}

/** Make a client for the given endpoints (`http://host:port`). */
export function createEtcdClient(endpoints: readonly string[], opts: EtcdClientOptions = {}): Etcd3 {
  const callTimeout = opts.callTimeoutMs ?? 5000;
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: opts.dialTimeoutMs ?? 3000,
    // grpc-js refuses responses over 4 MiB by default; our ranges are paged, but leave headroom.
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeout }),
  });
}
