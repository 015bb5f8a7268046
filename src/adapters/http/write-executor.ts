/**
 * Runs one write request: plan it against this replica's directory, commit the guarded operations to etcd, wait
 * until this replica has applied them (read-your-writes), and re-plan from the fresher state when another writer
 * won a guard. The server keeps no state of its own: everything it answers comes back through the mirror.
 */
import { backoffMs } from '../../core/backoff.js';
import { PvsError } from '../../core/errors.js';
import type { Keyspace } from '../../core/keyspace.js';
import type { Principal } from '../../core/auth/principal.js';
import { Changeset, type GuardedOp, type WriteView } from '../../core/writes/changeset.js';
import type { WriteResult } from '../../core/writes/channel-writes.js';
import type { LoginLimit } from './auth-guard.js';

/** What the write routes need from the outside: etcd, the mirror, and who is asking. */
export interface WriteDeps {
  readonly keys: Keyspace;
  /** Commit guarded ops; `conflict` when a guard failed (the rest may be committed). */
  commit(ops: readonly GuardedOp[]): Promise<{ revision: number; conflict: boolean }>;
  /** True once this replica's directory has applied `revision`, false when `timeoutMs` passed first. */
  waitFor(revision: number, timeoutMs: number): Promise<boolean>;
  /**
   * The user of an `Authorization` header: null when there is none; throws PVS_AUTH (401) when the credentials
   * are wrong. `gate` runs before a password is verified (not for a cached login) and may throw to refuse.
   */
  authenticate(authorization: string | undefined, gate?: () => Promise<void>): Promise<Principal | null>;
  /** Longest a write waits for this replica to show its revision, then 503 PVS_MIRROR_TIMEOUT (default 5 000 ms). */
  readonly waitMs?: number;
  /** Password checks (logins not already cached) allowed per client address and window (default 10 a minute). */
  readonly loginLimit?: LoginLimit;
}

/** Default of WriteDeps.waitMs. */
export const DEFAULT_WRITE_WAIT_MS = 5000;

const ATTEMPTS = 32;

/** Plan with `rule`, commit, wait for the mirror; retried when a guard fails. Returns the rule's last result. */
export async function executeWrite(view: WriteView, deps: WriteDeps, rule: (cs: Changeset) => WriteResult): Promise<WriteResult> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const cs = new Changeset(view, deps.keys);
    const result = rule(cs);
    const ops = cs.ops();
    if (ops.length === 0) return result;
    const r = await deps.commit(ops);
    const waitMs = deps.waitMs ?? DEFAULT_WRITE_WAIT_MS;
    if (!(await deps.waitFor(r.revision, waitMs))) {
      // The commit stands: only its read-your-writes promise is broken. Say so, so that clients do not panic.
      throw new PvsError('PVS_MIRROR_TIMEOUT', `the write is committed in etcd (revision ${r.revision}${r.conflict ? ', in part' : ''}) `
        + `but this replica has not applied it within ${waitMs} ms; it shows once the replica catches up (see /healthz)`, { retryable: true });
    }
    if (!r.conflict) return result;
    // Several writers on one key: each round one wins; a random pause (full jitter on the one back-off) spreads the
    // others out. 5 ms doubling to 80 ms: over 32 attempts about what the linear 5 ms x attempt pause gave.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * backoffMs(attempt, 5, 80)));
  }
  throw new PvsError('PVS_ETCD_CONFLICT', `the write kept losing to concurrent writers (${ATTEMPTS} attempts)`, { retryable: true });
}
