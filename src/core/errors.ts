/**
 * The one error class of pvsync. Every error carries a stable code (documented in docs/errors.md) and whether
 * retrying the same operation can help. Foreign errors are wrapped once, at the adapter edge, with `cause`.
 */
export const ERROR_CODES = {
  PVS_DB_SYNTAX: 'a database, substitution or startup file could not be read as written',
  PVS_DB_MACRO: 'a macro was undefined or recursive where the IOC would refuse it',
  PVS_DB_FILE: 'a file named by the IOC configuration could not be found or read',
  PVS_DB_STRICT: 'upload --strict: the IOC configuration has errors, so nothing was written to etcd',
  PVS_CONFIG: 'a configuration value (option, environment variable, config file) is invalid',
  PVS_ETCD_UNAVAILABLE: 'etcd could not be reached or has no quorum; retry later',
  PVS_ETCD_COMPACTED: 'the requested etcd revision has been compacted; re-list and watch again',
  PVS_ETCD_CONFLICT: 'a guarded etcd transaction lost its comparison (someone else wrote first)',
  PVS_ETCD_DATA: 'a value read back from etcd does not match its schema',
  PVS_ETCD_TLS: 'the TLS handshake with etcd failed (no, untrusted or wrong certificate on either side)',
  PVS_ETCD_AUTH: 'etcd did not accept the user name and password',
  PVS_ETCD_DENIED: 'etcd refused the call: the etcd user lacks permission on the key',
  PVS_ETCD_TOO_LARGE: 'etcd refused a request larger than its limit (1.5 MiB)',
  PVS_LEASE_LOST: 'the etcd lease that proves liveness or leadership has expired',
  PVS_CLUSTER: 'the local etcd cluster could not be started, stopped or checked',
  PVS_PKI: 'a certificate or key could not be made (openssl missing or failed)',
  PVS_QUERY: 'a ChannelFinder query parameter is invalid',
  PVS_NOT_FOUND: 'the requested channel, property or tag does not exist',
  PVS_AUTH: 'authentication or authorization failed',
  PVS_BAD_REQUEST: 'an HTTP request body or parameter is invalid',
  PVS_RATE_LIMITED: 'too many failed logins or open watch streams from one client, or in total; retry after Retry-After',
  PVS_MIRROR_TIMEOUT: 'this replica did not apply an etcd revision within its deadline (a committed write not yet visible)',
  PVS_PROTOCOL_REMOTE: 'the peer broke the wire protocol',
  PVS_PROTOCOL_LOCAL: 'this side tried an illegal protocol transition (a bug)',
  PVS_ARCHIVER_NO_ACTIVE: 'no archiver node is active in the group (failover under way, or no healthy node)',
  PVS_ARCHIVER_SWITCHOVER: 'a switchover was refused (unknown, unhealthy or already active target) or did not complete in time',
  PVS_MARIADB: 'the local MariaDB server could not be started, stopped or checked (or MariaDB is not installed)',
  PVS_MARIADB_UNAVAILABLE: 'MariaDB could not be reached or refused a statement; retry later',
  PVS_SYNC_FENCED: 'a newer archiver-sync writer owns the relational mirror: this one was deposed and wrote nothing',
  PVS_ARCHIVE_SPEC: 'a channel\'s archive property is not a policy name, "default" or METHOD@PERIOD',
  PVS_APPLIANCE: 'the Archiver Appliance refused or failed a management request, or is still starting',
  PVS_INTERNAL: 'an unexpected internal failure (a bug)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Options of a PvsError: whether a retry can help, and the wrapped foreign error. */
export interface PvsErrorOptions {
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

/** The base error: `code` is stable for users to match on, `retryable` says whether trying again may succeed. */
export class PvsError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: PvsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PvsError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True when `err` is a PvsError with one of the given codes (any code when none is given). */
export function isPvsError(err: unknown, ...codes: ErrorCode[]): err is PvsError {
  return err instanceof PvsError && (codes.length === 0 || codes.includes(err.code));
}

/** The message of anything thrown: an Error's message, else its string form. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
