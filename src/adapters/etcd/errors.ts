/**
 * Translation of etcd3/gRPC errors into PvsError, once, at the edge of the etcd adapter.
 */
import {
  EtcdLeaseInvalidError, GRPCDeadlineExceededError, GRPCUnavailableError, GRPCCancelledError,
  GRPCInternalError, GRPCUnknownError, isRecoverableError,
} from 'etcd3';
import { PvsError, messageOf } from '../../core/errors.js';

/** Wrap a foreign error from an etcd call; `what` names the operation for the message. */
export function wrapEtcdError(err: unknown, what: string): PvsError {
  if (err instanceof PvsError) return err;
  const message = messageOf(err);
  if (err instanceof EtcdLeaseInvalidError) {
    return new PvsError('PVS_LEASE_LOST', `${what}: lease no longer valid (${message})`, { retryable: true, cause: err });
  }
  if (/compacted/i.test(message)) {
    return new PvsError('PVS_ETCD_COMPACTED', `${what}: ${message}`, { retryable: true, cause: err });
  }
  const transient = err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError
    || err instanceof GRPCCancelledError || err instanceof GRPCInternalError || err instanceof GRPCUnknownError
    || (err instanceof Error && isRecoverableError(err))
    || /no leader|leader changed|timed out|unavailable|ECONNREFUSED|deadline|too many requests/i.test(message);
  if (transient) {
    return new PvsError('PVS_ETCD_UNAVAILABLE', `${what}: etcd unavailable (${message})`, { retryable: true, cause: err });
  }
  return new PvsError('PVS_ETCD_UNAVAILABLE', `${what}: ${message}`, { retryable: false, cause: err });
}
