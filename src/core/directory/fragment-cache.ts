/**
 * A bounded cache of each channel's JSON text as UTF-8 bytes, kept in one fixed ring buffer, with its bookkeeping
 * in fixed tables and a row number on each slot (no per-entry objects or map: nothing for the garbage collector to
 * promote and collect). An entry is served only while everything its text was rendered from is unchanged — the
 * winning record node, the IOC's stamp, the API node and the definitions' stamp — so it can never be stale; there
 * is no invalidation to forget. New text overwrites the oldest. Each channel's bytes end with a comma, so that
 * channels stored one after the other (as a page renders them) copy out as one block.
 */
import type { ApiNode, ChannelSlot, RecordNode } from './nodes.js';

const encoder = new TextEncoder();
// One entry per this many bytes of ring (channels' JSON is rarely shorter); past that, the oldest entry goes.
const BYTES_PER_ENTRY = 256;

/** Where one channel's bytes (its JSON text and a comma) are: in `src` from `start` to `end`. Reused between calls. */
export interface ByteRef {
  src: Uint8Array;
  start: number;
  end: number;
}

/** Cache of rendered channels keyed by slot, holding at most `ringBytes` of text (0 disables it). */
export class FragmentCache {
  private readonly ring: Uint8Array;
  // The entry table, a ring of `cap` rows in insertion order: row `next % cap` is the next one written.
  private readonly cap: number;
  private readonly slots: (ChannelSlot | null)[];
  private readonly wins: (RecordNode | null)[];
  private readonly apis: (ApiNode | null)[];
  /** Logical position of the row's bytes in the ring (ever-growing; physical = at % ring size). */
  private readonly ats: Float64Array;
  private readonly lens: Int32Array;
  private readonly iocStamps: Float64Array;
  private readonly defStamps: Float64Array;
  private next = 0;
  /** Logical end of the written bytes. */
  private written = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor(ringBytes: number) {
    this.ring = new Uint8Array(ringBytes);
    this.cap = Math.ceil(ringBytes / BYTES_PER_ENTRY);
    this.slots = new Array<ChannelSlot | null>(this.cap).fill(null);
    this.wins = new Array<RecordNode | null>(this.cap).fill(null);
    this.apis = new Array<ApiNode | null>(this.cap).fill(null);
    this.ats = new Float64Array(this.cap);
    this.lens = new Int32Array(this.cap);
    this.iocStamps = new Float64Array(this.cap);
    this.defStamps = new Float64Array(this.cap);
  }

  /**
   * Resolve `slot` into `ref`: its cached bytes when still valid, else rendered by `render` (the JSON text and a
   * comma), stored, and resolved.
   * Returns the logical position of the bytes in the ring (valid while `isIntact(at)`), or -1 for bytes outside.
   */
  resolve(slot: ChannelSlot, defs: number, render: (slot: ChannelSlot) => string, ref: ByteRef): number {
    const win = slot.win;
    const iocStamp = win === null ? 0 : win.ioc.stamp;
    const row = slot.jsonRow;
    if (row >= 0 && this.slots[row] === slot) {
      const at = this.ats[row] as number;
      if (this.wins[row] === win && this.iocStamps[row] === iocStamp && this.apis[row] === slot.api
        && this.defStamps[row] === defs && this.isIntact(at)) {
        this.hitCount++;
        return this.refTo(at, this.lens[row] as number, ref);
      }
      this.forget(row);
    }
    this.missCount++;
    const text = render(slot);
    const at = this.store(text);
    if (at < 0) {
      ref.src = encoder.encode(text);
      ref.start = 0;
      ref.end = ref.src.length;
      return -1;
    }
    const fresh = this.next++ % this.cap;
    this.forget(fresh);
    slot.jsonRow = fresh;
    this.slots[fresh] = slot;
    this.wins[fresh] = win;
    this.apis[fresh] = slot.api;
    this.ats[fresh] = at;
    this.lens[fresh] = this.written - at;
    this.iocStamps[fresh] = iocStamp;
    this.defStamps[fresh] = defs;
    return this.refTo(at, this.written - at, ref);
  }

  /** True while the bytes stored at logical position `at` have not been overwritten. */
  isIntact(at: number): boolean {
    return at >= this.written - this.ring.length;
  }

  /** Forget `slot` (it left the directory). */
  delete(slot: ChannelSlot): void {
    const row = slot.jsonRow;
    if (row >= 0 && this.slots[row] === slot) this.forget(row);
  }

  /** Forget everything. */
  clear(): void {
    for (let row = 0; row < this.cap; row++) this.forget(row);
    this.slots.fill(null);
    this.wins.fill(null);
    this.apis.fill(null);
  }

  /** Entries held, bytes of the ring, and hits and misses since start. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    let entries = 0;
    for (const slot of this.slots) if (slot !== null) entries++;
    return { entries, bytes: this.ring.length, hits: this.hitCount, misses: this.missCount };
  }

  // Empty row `row` (and unlink its slot).
  private forget(row: number): void {
    const slot = this.slots[row];
    if (slot === null || slot === undefined) return;
    if (slot.jsonRow === row) slot.jsonRow = -1;
    this.slots[row] = null;
    this.wins[row] = null;
    this.apis[row] = null;
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
    if (text.length * 3 > size || this.cap === 0) return -1;
    let at = this.written;
    const p = at % size;
    let r = encoder.encodeInto(text, this.ring.subarray(p));
    if (r.read < text.length) {
      at += size - p; // skip the rest of the ring, start again at 0
      r = encoder.encodeInto(text, this.ring);
    }
    this.written = at + r.written;
    return at;
  }
}
