/**
 * Translation of etcd3/gRPC errors into PvsError, once, at the edge of the etcd adapter.
 */
import { BrokenCircuitError } from 'cockatiel';
import {
  EtcdAuthenticationFailedError, EtcdLeaseInvalidError, EtcdPermissionDeniedError, EtcdRoleNotGrantedError,
  EtcdUserNotFoundError, GRPCDeadlineExceededError, GRPCUnavailableError, GRPCCancelledError, GRPCInternalError,
  GRPCUnauthenticatedError, GRPCUnknownError, isRecoverableError,
} from 'etcd3';
import { PvsError, isPvsError, messageOf } from '../../core/errors.js';

// grpc-js reports a refused TLS handshake as UNAVAILABLE with OpenSSL's text: permanent, not an outage.
const TLS_FAILURE = /bad certificate|certificate required|unknown ca|unable to verify|self[- ]signed certificate|certificate has expired|certificate is not yet valid|wrong version number|does not match certificate|Hostname\/IP does not match|ERR_TLS_CERT|handshake failure|alert (certificate|decrypt|unsupported)/i;

/**
 * True for etcd's permanent refusals of this client (TLS, login, permission, size): retrying at once cannot help,
 * so callers back off for long and log an error naming the code, instead of treating etcd as down.
 */
export function isEtcdRefusal(err: unknown): boolean {
  return isPvsError(err, 'PVS_ETCD_TLS', 'PVS_ETCD_AUTH', 'PVS_ETCD_DENIED', 'PVS_ETCD_TOO_LARGE');
}

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
  // Refusals are permanent for this identity: retrying the same call cannot help (an operator must act).
  if (err instanceof EtcdPermissionDeniedError || err instanceof EtcdRoleNotGrantedError || /permission denied/i.test(message)) {
    return new PvsError('PVS_ETCD_DENIED', `${what}: etcd refused it: permission denied for this etcd user`, { cause: err });
  }
  if (err instanceof EtcdAuthenticationFailedError || err instanceof EtcdUserNotFoundError
    || /authentication failed|invalid user ID or password|user name not found|user name is empty/i.test(message)) {
    return new PvsError('PVS_ETCD_AUTH', `${what}: etcd did not accept the user name and password`, { cause: err });
  }
  if (TLS_FAILURE.test(message)) {
    return new PvsError('PVS_ETCD_TLS', `${what}: the TLS handshake with etcd failed (${tlsReason(message)})`, { cause: err });
  }
  if (/request is too large|larger than max|message larger than/i.test(message)) {
    return new PvsError('PVS_ETCD_TOO_LARGE', `${what}: etcd refused a request larger than its limit`, { cause: err });
  }
  const transient = err instanceof GRPCUnavailableError || err instanceof GRPCDeadlineExceededError
    || err instanceof GRPCCancelledError || err instanceof GRPCInternalError || err instanceof GRPCUnknownError
    || err instanceof GRPCUnauthenticatedError
    // Every member's breaker open (a client without member probes, member-guard.ts): an outage.
    || err instanceof BrokenCircuitError
    || (err instanceof Error && isRecoverableError(err))
    || /no leader|leader changed|timed out|unavailable|ECONNREFUSED|deadline|too many requests|invalid auth token/i.test(message);
  if (transient) {
    return new PvsError('PVS_ETCD_UNAVAILABLE', `${what}: etcd unavailable (${message})`, { retryable: true, cause: err });
  }
  return new PvsError('PVS_ETCD_UNAVAILABLE', `${what}: ${message}`, { retryable: false, cause: err });
}

/** A short, stable reason for a TLS failure (OpenSSL's text is long and carries source paths). */
function tlsReason(message: string): string {
  if (/bad certificate|certificate required|unknown ca|alert certificate/i.test(message)) {
    return 'etcd refused our client certificate: none given, or not signed by the CA etcd trusts';
  }
  if (/unable to verify|self[- ]signed|unknown ca/i.test(message)) {
    return 'etcd\'s certificate is not signed by the CA given with --etcd-ca (or no --etcd-ca was given)';
  }
  if (/does not match|Hostname\/IP/i.test(message)) return 'etcd\'s certificate does not name the host we dialled';
  if (/expired|not yet valid/i.test(message)) return 'a certificate is expired or not yet valid';
  if (/wrong version number/i.test(message)) return 'the endpoint does not speak TLS: use http:// for it, or enable TLS on etcd';
  return 'handshake refused';
}
