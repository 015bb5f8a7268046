import { describe, expect, it } from 'vitest';
import { opBytes } from '../../../src/core/upload/plan.js';
import { TxnQueue } from '../../../src/core/upload/txn-queue.js';
import type { WriteOp } from '../../../src/core/write-op.js';

const put = (key: string, value = 'v'): WriteOp => ({ type: 'put', key, value });
const keysOf = (ops: readonly WriteOp[]): string[] => ops.map((o) => o.key);
const fill = (q: TxnQueue, n: number, from = 0): void => {
  for (let i = from; i < from + n; i++) q.push(put(`k${i}`), 1);
};

describe('TxnQueue', () => {
  it('hands out full transactions while others are in flight, a partial one only when none is', () => {
    const q = new TxnQueue({ maxOps: 4, maxBytes: 1 << 20 });
    fill(q, 6);
    const a = q.next(3);
    expect(keysOf(a!.ops)).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(a!.records).toBe(4);
    expect(q.next(4)).toBeNull(); // two left: partial, and transactions are in flight
    const b = q.next(0);
    expect(keysOf(b!.ops)).toEqual(['k4', 'k5']);
    expect(q.waiting).toBe(0);
    expect(q.next(0)).toBeNull();
  });

  it('puts extra ops first and counts them against the limits', () => {
    const q = new TxnQueue({ maxOps: 4, maxBytes: 1 << 20 });
    fill(q, 3);
    const info = put('info', 'uploading');
    // Three records and the info make a full transaction: it goes even with others in flight.
    const a = q.next(2, [info]);
    expect(keysOf(a!.ops)).toEqual(['info', 'k0', 'k1', 'k2']);
    expect(a!.records).toBe(3);
  });

  it('cuts by bytes; an op larger than the limit goes alone', () => {
    const small = put('a', 'x'.repeat(10));
    const limit = 3 * opBytes(small);
    const q = new TxnQueue({ maxOps: 100, maxBytes: limit });
    for (const k of ['a', 'b', 'c', 'd']) q.push(put(k, 'x'.repeat(10)));
    q.push(put('huge', 'x'.repeat(limit)));
    q.push(put('e', 'x'.repeat(10)));
    expect(keysOf(q.next(1)!.ops)).toEqual(['a', 'b', 'c']); // over the byte limit waiting: a full one goes
    expect(keysOf(q.next(0)!.ops)).toEqual(['d']);
    expect(keysOf(q.next(0)!.ops)).toEqual(['huge']);
    expect(keysOf(q.next(0)!.ops)).toEqual(['e']);
  });

  it('never puts a key twice in one transaction, nor in two at once', () => {
    const q = new TxnQueue({ maxOps: 10, maxBytes: 1 << 20 });
    q.push(put('a', '1'));
    q.push(put('b', '1'));
    q.push(put('a', '2'));
    q.push(put('c', '1'));
    const first = q.next(0)!;
    expect(keysOf(first.ops)).toEqual(['a', 'b']); // stops before the second write of a
    expect(q.next(0)).toBeNull(); // a is still being written by the first
    expect(q.fitsWith([])).toBe(false);
    q.done(first);
    const second = q.next(0)!;
    expect(second.ops).toEqual([put('a', '2'), put('c', '1')]);
  });

  it('fitsWith and takeAll: the rest goes beside closing ops when it fits', () => {
    const q = new TxnQueue({ maxOps: 4, maxBytes: 1 << 20 });
    const closing = [put('info', 'complete'), put('alive', 'x')];
    fill(q, 3);
    expect(q.fitsWith(closing)).toBe(false); // 3 + 2 > 4
    expect(keysOf(q.next(0)!.ops)).toEqual(['k0', 'k1', 'k2']);
    fill(q, 2, 3);
    expect(q.fitsWith(closing)).toBe(true);
    const last = q.takeAll(closing);
    expect(keysOf(last.ops)).toEqual(['k3', 'k4', 'info', 'alive']);
    expect(last.records).toBe(2);
    expect(q.waiting).toBe(0);
    expect(q.fitsWith(closing)).toBe(true);
  });

  it('keeps order across many transactions (the queue compacts as it goes)', () => {
    const q = new TxnQueue({ maxOps: 128, maxBytes: 1 << 20 });
    fill(q, 10_000);
    const seen: string[] = [];
    for (let b = q.next(0); b !== null; b = q.next(0)) {
      seen.push(...keysOf(b.ops));
      q.done(b);
      if (seen.length === 5120) fill(q, 100, 10_000);
    }
    expect(seen).toEqual(Array.from({ length: 10_100 }, (_, i) => `k${i}`));
  });
});
