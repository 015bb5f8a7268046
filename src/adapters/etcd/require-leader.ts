/**
 * A gRPC interceptor that marks every etcd call "require leader" (metadata `hasleader: true`, what Go's
 * clientv3.WithRequireLeader sends). etcd then fails a unary call on a member without a leader at once with
 * `etcdserver: no leader` (UNAVAILABLE, which etcd3 retries on another member), and cancels such a member's streams
 * — watches and lease keep-alives — after about three election timeouts without a leader, so they start again on
 * another member instead of staying silent.
 */
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';

/** The interceptor, for `grpcOptions.interceptors` of an etcd3 client. */
export const requireLeader: Interceptor = (options, nextCall) => new InterceptingCall(nextCall(options), {
  start(metadata, listener, next) {
    metadata.set('hasleader', 'true');
    next(metadata, listener);
  },
});
