/**
 * Committing guarded writes: each operation only applies if its key's mod revision is still the one the writer
 * read (0 = absent). Ops are cut into transactions within etcd's limits and committed a few at a time; a batch
 * whose comparison fails is reported as a conflict (the caller re-reads and retries), the others stay committed.
 */
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import { batchBySize } from '../../core/upload/plan.js';
import type { GuardedOp } from '../../core/writes/changeset.js';
import { wrapEtcdError } from './errors.js';

/** The outcome of a guarded commit: the highest revision written or seen, and whether any batch lost its guard. */
export interface GuardedOutcome {
  readonly revision: number;
  readonly conflict: boolean;
}

/**
 * Cut ops into transactions within etcd's limits (128 operations, compares counted apart; 1.5 MiB per request,
 * kept to 1 MiB); a key counts twice since its compare repeats it.
 */
export function batchGuarded(ops: readonly GuardedOp[]): GuardedOp[][] {
  return batchBySize(ops, (op) => 2 * Buffer.byteLength(op.key) + (op.value === null ? 0 : Buffer.byteLength(op.value)) + 64);
}

/** Commit `ops` in guarded transactions, `concurrency` at a time (definitions first: the caller orders them). */
export async function commitGuarded(client: Etcd3, ops: readonly GuardedOp[], concurrency = 4): Promise<GuardedOutcome> {
  const batches = batchGuarded(ops);
  let revision = 0;
  let conflict = false;
  // Definitions come first in `ops`: commit the first batch alone so they exist before values referring to them.
  const run = async (batch: readonly GuardedOp[]): Promise<void> => {
    const compare: ICompare[] = batch.map((op) => ({
      key: Buffer.from(op.key), target: 'Mod', result: 'Equal', mod_revision: op.expect,
    }));
    const success: IRequestOp[] = batch.map((op) => (op.value === null
      ? { request_delete_range: { key: Buffer.from(op.key) } }
      : { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value) } }));
    try {
      const res = await client.kv.txn({ compare, success, failure: [] });
      revision = Math.max(revision, Number(res.header.revision));
      if (!res.succeeded) conflict = true;
    } catch (err) {
      throw wrapEtcdError(err, 'guarded write');
    }
  };
  const [first, ...rest] = batches;
  if (first === undefined) return { revision, conflict };
  await run(first);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, rest.length) }, async () => {
    while (next < rest.length && !conflict) await run(rest[next++] as GuardedOp[]);
  }));
  return { revision, conflict };
}
