/**
 * Writes waiting for their etcd transactions while records stream in (the RecCaster bridge): cut into transactions
 * within etcd's limits as they come, a full one whenever it is ready, a partial one only when none is in flight, so
 * a fast stream goes out in full transactions and a trickle at once. A key is never twice in one transaction (etcd
 * refuses that) nor in two at once (they could commit in either order): its second write waits for the first.
 */
import type { WriteOp } from '../write-op.js';
import { ETCD_TXN_LIMITS, opBytes, type TxnLimits } from './plan.js';

/** Ops for one transaction, and how many of them are records (for the backlog). */
export interface TxnBatch {
  readonly ops: WriteOp[];
  readonly records: number;
}

interface Queued {
  readonly op: WriteOp;
  readonly bytes: number;
  readonly records: number;
}

/** A FIFO of ops cut into transactions; the caller sends them, counts those in flight and reports each one done. */
export class TxnQueue {
  private queue: Queued[] = [];
  private head = 0;
  private bytes = 0;
  /** Keys of the batches handed out and not yet reported done. */
  private readonly writing = new Set<string>();

  constructor(private readonly limits: TxnLimits = ETCD_TXN_LIMITS) {}

  /** Ops waiting (not handed out yet). */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Queue an op; `records` is what it counts for in the batch's `records`. */
  push(op: WriteOp, records = 0): void {
    const bytes = opBytes(op);
    this.queue.push({ op, bytes, records });
    this.bytes += bytes;
  }

  /**
   * The next transaction, `extra` first (ops that must go with the next one), or null: nothing waits, only a
   * partial transaction waits while `inFlight` > 0, or the first op's key is still being written.
   */
  next(inFlight: number, extra: readonly WriteOp[] = []): TxnBatch | null {
    const waiting = this.waiting;
    if (waiting === 0) return null;
    if (inFlight > 0 && waiting < this.limits.maxOps - extra.length && this.bytes <= this.limits.maxBytes) return null;
    const n = this.cut(extra, this.writing);
    if (n === 0) return null;
    const batch = this.take(n);
    return { ops: [...extra, ...batch.ops], records: batch.records };
  }

  /** Whether every waiting op fits in one transaction beside `extra` (asked with nothing in flight). */
  fitsWith(extra: readonly WriteOp[]): boolean {
    const waiting = this.waiting;
    return waiting === 0 || this.cut(extra, new Set(this.writing)) === waiting;
  }

  /** Hand out every waiting op (after `fitsWith` said they fit), `extra` last. */
  takeAll(extra: readonly WriteOp[] = []): TxnBatch {
    const batch = this.take(this.waiting);
    for (const op of batch.ops) this.writing.add(op.key);
    return { ops: [...batch.ops, ...extra], records: batch.records };
  }

  /** A handed-out batch was committed or abandoned: its keys may be written again. */
  done(batch: TxnBatch): void {
    for (const op of batch.ops) this.writing.delete(op.key);
  }

  // How many waiting ops fit beside `extra`, stopping before a key in `keys` (this batch's or one in flight); the
  // keys taken are added to `keys`.
  private cut(extra: readonly WriteOp[], keys: Set<string>): number {
    const maxOps = this.limits.maxOps - extra.length;
    let room = this.limits.maxBytes;
    for (const op of extra) room -= opBytes(op);
    let n = 0;
    for (let i = this.head; i < this.queue.length; i++) {
      const q = this.queue[i]!;
      if (keys.has(q.op.key) || (n > 0 && (n >= maxOps || q.bytes > room))) break;
      keys.add(q.op.key);
      room -= q.bytes;
      n++;
    }
    return n;
  }

  private take(n: number): TxnBatch {
    const ops: WriteOp[] = [];
    let bytes = 0;
    let records = 0;
    for (const end = this.head + n; this.head < end; this.head++) {
      const q = this.queue[this.head]!;
      ops.push(q.op);
      bytes += q.bytes;
      records += q.records;
    }
    this.bytes -= bytes;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 4096) {
      this.queue = this.queue.slice(this.head); // drop what was handed out now and then, not at every batch
      this.head = 0;
    }
    return { ops, records };
  }
}
