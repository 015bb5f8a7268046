/**
 * A bounded cache of each channel's JSON text as UTF-8 bytes, kept in one fixed ring buffer (no garbage collector
 * churn, memory fixed up front). An entry is served only while everything its text was rendered from is unchanged —
 * the winning record node, the IOC's stamp, the API node and the definitions' stamp — so it can never be stale;
 * there is no invalidation to forget. New text overwrites the oldest. Each channel's bytes end with a comma, so that
 * channels stored one after the other (as a page renders them) copy out as one block.
 */
import type { ApiNode, ChannelSlot, RecordNode } from './nodes.js';

const encoder = new TextEncoder();

class Entry {
  constructor(
    readonly slot: ChannelSlot,
    /** Logical position of the text in the ring (ever-growing; physical = at % size). */
    readonly at: number,
    readonly len: number,
    readonly win: RecordNode | null,
    readonly iocStamp: number,
    readonly api: ApiNode | null,
    readonly defs: number,
  ) {}
}

/** Where one channel's bytes (its JSON text and a comma) are: in `src` from `start` to `end`. Reused between calls. */
export interface ByteRef {
  src: Uint8Array;
  start: number;
  end: number;
}

/** Cache of rendered channels keyed by slot, holding at most `ringBytes` of text (0 disables it). */
export class FragmentCache {
  private readonly ring: Uint8Array;
  private readonly entries = new Map<ChannelSlot, Entry>();
  /** Entries in ring order, oldest first from `headIndex`. */
  private order: Entry[] = [];
  private headIndex = 0;
  /** Logical end of the written bytes. */
  private written = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(ringBytes: number) {
    this.ring = new Uint8Array(ringBytes);
  }

  /**
   * Resolve `slot` into `ref`: its cached bytes when still valid, else rendered by `render`, stored, and resolved.
   * Returns the logical position of the bytes in the ring (valid while `isIntact(at)`), or -1 for bytes outside.
   */
  resolve(slot: ChannelSlot, defs: number, render: (slot: ChannelSlot) => string, ref: ByteRef): number {
    const win = slot.win;
    const iocStamp = win === null ? 0 : win.ioc.stamp;
    const e = this.entries.get(slot);
    if (e !== undefined) {
      if (e.win === win && e.iocStamp === iocStamp && e.api === slot.api && e.defs === defs && this.isIntact(e.at)) {
        this.hitCount++;
        return this.refTo(e.at, e.len, ref);
      }
      this.entries.delete(slot);
    }
    this.missCount++;
    const text = `${render(slot)},`;
    const at = this.store(text);
    if (at < 0) {
      ref.src = encoder.encode(text);
      ref.start = 0;
      ref.end = ref.src.length;
      return -1;
    }
    const len = this.written - at;
    const entry = new Entry(slot, at, len, win, iocStamp, slot.api, defs);
    this.entries.set(slot, entry);
    this.order.push(entry);
    return this.refTo(at, len, ref);
  }

  /** True while the bytes stored at logical position `at` have not been overwritten. */
  isIntact(at: number): boolean {
    return at >= this.written - this.ring.length;
  }

  /** Forget `slot` (it left the directory). */
  delete(slot: ChannelSlot): void {
    this.entries.delete(slot);
  }

  /** Forget everything. */
  clear(): void {
    this.entries.clear();
    this.order = [];
    this.headIndex = 0;
  }

  /** Entries held, bytes of the ring, and hits and misses since start. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.ring.length, hits: this.hitCount, misses: this.missCount };
  }

  private refTo(at: number, len: number, ref: ByteRef): number {
    const p = at % this.ring.length;
    ref.src = this.ring;
    ref.start = p;
    ref.end = p + len;
    return at;
  }

  // Encode `text` at the end of the ring (contiguously: wraps to the start when the rest does not hold it);
  // returns its logical position, or -1 when it does not fit in the ring at all.
  private store(text: string): number {
    const size = this.ring.length;
    // A UTF-16 code unit never takes more than 3 bytes of UTF-8.
    if (text.length * 3 > size || text.length === 0) return -1;
    let at = this.written;
    const p = at % size;
    let r = encoder.encodeInto(text, this.ring.subarray(p));
    if (r.read < text.length) {
      at += size - p; // skip the rest of the ring, start again at 0
      r = encoder.encodeInto(text, this.ring);
    }
    this.written = at + r.written;
    this.evictOverwritten();
    return at;
  }

  private evictOverwritten(): void {
    const order = this.order;
    let i = this.headIndex;
    while (i < order.length && !this.isIntact((order[i] as Entry).at)) {
      const old = order[i] as Entry;
      if (this.entries.get(old.slot) === old) this.entries.delete(old.slot);
      i++;
    }
    this.headIndex = i;
    if (i > 1024 && i * 2 > order.length) {
      this.order = order.slice(i);
      this.headIndex = 0;
    }
  }
}
