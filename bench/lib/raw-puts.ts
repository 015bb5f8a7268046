/**
 * The baseline of the upload and bridge benches: raw batched etcd puts of the given keys and values — cut by the
 * uploader's own batcher (128 per transaction, within the byte limit), `concurrency` transactions in flight, each a
 * plain transaction of puts (no diff, no compare, no lease). The ops are built before the clock starts.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { commitOps } from '../../src/adapters/etcd/kv.js';
import { batchOps, type PlannedOp } from '../../src/core/upload/plan.js';

/** Write `ops` as fast as batched transactions go; returns keys per second. */
export async function rawBatchedPuts(client: Etcd3, ops: readonly PlannedOp[], concurrency = 8): Promise<number> {
  const batches = batchOps(ops);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < batches.length) await commitOps(client, batches[next++]!, 'raw puts');
  }));
  return ops.length / ((performance.now() - t0) / 1000);
}
