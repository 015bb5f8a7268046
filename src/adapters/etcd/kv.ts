/**
 * Bulk key-value operations within etcd's limits: paged consistent ranges and batched transactions.
 */
import type { Etcd3, IKeyValue, IRequestOp } from 'etcd3';
import type { WriteOp } from '../../core/write-op.js';
import { wrapEtcdError } from './errors.js';

/** One key and value as read back from etcd. */
export interface KeyValue {
  readonly key: string;
  readonly value: Buffer;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly lease: string;
}

/** A consistent snapshot of a prefix: every key as of `revision`. */
export interface Snapshot {
  readonly revision: number;
  readonly kvs: KeyValue[];
}

/** The exclusive end of the range of all keys starting with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/**
 * Read every key under `prefix` as of one revision (`revision`, else the first page's), page by page so that no
 * response nears gRPC's message limit, handing each page to `visit` and keeping none. Throws PVS_ETCD_COMPACTED
 * if the revision has been compacted meanwhile.
 */
async function forEachPage(
  client: Etcd3, prefix: string, pageSize: number, revision: number, visit: (kvs: readonly IKeyValue[]) => void,
): Promise<{ revision: number; keys: number }> {
  const end = prefixEnd(Buffer.from(prefix));
  let start = Buffer.from(prefix);
  let keys = 0;
  for (;;) {
    let res;
    try {
      res = await client.kv.range({ key: start, range_end: end, limit: pageSize, revision });
    } catch (err) {
      throw wrapEtcdError(err, `range ${prefix}`);
    }
    if (revision === 0) revision = Number(res.header.revision);
    visit(res.kvs);
    keys += res.kvs.length;
    const last = res.kvs[res.kvs.length - 1];
    if (!res.more || last === undefined) break;
    start = Buffer.concat([last.key, Buffer.from([0])]);
  }
  return { revision, keys };
}

/** Every key under `prefix` as of one revision (the first page's, unless given), read in pages. */
export async function rangePrefix(client: Etcd3, prefix: string, opts: { pageSize?: number; revision?: number } = {}): Promise<Snapshot> {
  const kvs: KeyValue[] = [];
  const { revision } = await forEachPage(client, prefix, opts.pageSize ?? 5000, opts.revision ?? 0, (page) => {
    for (const kv of page) {
      kvs.push({
        key: kv.key.toString(), value: kv.value, modRevision: Number(kv.mod_revision),
        createRevision: Number(kv.create_revision), lease: String(kv.lease),
      });
    }
  });
  return { revision, kvs };
}

/**
 * Visit every key under `prefix` as of one revision (`revision`, else the current one), one page at a time, without
 * keeping the pages: `visit` gets each key, value and mod revision. Returns the revision read. For snapshots too large
 * to hold twice in memory.
 */
export async function scanPrefix(
  client: Etcd3, prefix: string, pageSize: number,
  visit: (key: string, value: string, modRevision: number) => void, revision = 0,
): Promise<{ revision: number; keys: number }> {
  return forEachPage(client, prefix, pageSize, revision, (page) => {
    for (const kv of page) visit(kv.key.toString(), kv.value.toString(), Number(kv.mod_revision));
  });
}

/** A put or a delete of one key, as a transaction operation (the one type, core/write-op.ts). */
export type { WriteOp } from '../../core/write-op.js';

/** Turn a WriteOp into etcd's request op. */
export function toRequestOp(op: WriteOp): IRequestOp {
  if (op.type === 'delete') return { request_delete_range: { key: Buffer.from(op.key) } };
  return { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), lease: op.lease ?? 0 } };
}

/** Commit the ops in one transaction (the caller keeps it within 128 ops and 1.5 MiB); returns its revision. */
export async function commitOps(client: Etcd3, ops: readonly WriteOp[], what: string): Promise<number> {
  try {
    const res = await client.kv.txn({ compare: [], success: ops.map(toRequestOp), failure: [] });
    return Number(res.header.revision);
  } catch (err) {
    throw wrapEtcdError(err, what);
  }
}

/** etcd's current revision (the header of a count-only range), within `deadlineMs`. */
export async function etcdRevision(client: Etcd3, key: string, deadlineMs = 2000): Promise<number> {
  try {
    const res = await client.kv.range({ key: Buffer.from(key), count_only: true }, { deadline: new Date(Date.now() + deadlineMs) });
    return Number(res.header.revision);
  } catch (err) {
    throw wrapEtcdError(err, 'current revision');
  }
}
