/**
 * The channel slots sorted by name (code-point order). Changes are queued and merged when a reader next asks,
 * so applying events stays O(touched names); a few changes are spliced in, many are merged in one pass.
 * Case-insensitive prefixes are answered by narrowing ranges with binary searches, one prefix character at a time.
 */
import { compareNames, compareNamesFast, hasHighUnits, unitRank } from './name-order.js';
import { type ChannelSlot, SLOT_DEAD, SLOT_INDEXED, SLOT_PENDING } from './nodes.js';

/** A half-open range [lo, hi) of positions in the sorted array. */
export type Range = readonly [number, number];

// Below this many queued changes, splicing (a memmove each) beats a full merge pass.
const SPLICE_MAX = 32;

/** Sorted array of live slots, with queued additions and removals. */
export class SortedIndex {
  private arr: ChannelSlot[] = [];
  private adds: ChannelSlot[] = [];
  private removes: ChannelSlot[] = [];
  private cmp: (a: string, b: string) => number = compareNamesFast;
  private changes = 0;

  /** Queue a new slot. */
  add(slot: ChannelSlot): void {
    slot.state = SLOT_PENDING;
    if (this.cmp === compareNamesFast && hasHighUnits(slot.name)) this.cmp = compareNames;
    this.adds.push(slot);
  }

  /** Queue the removal of a slot (added before). */
  remove(slot: ChannelSlot): void {
    if (slot.state === SLOT_INDEXED) this.removes.push(slot);
    slot.state = SLOT_DEAD;
  }

  /** Forget everything. */
  clear(): void {
    this.changes++;
    this.arr = [];
    this.adds = [];
    this.removes = [];
    this.cmp = compareNamesFast;
  }

  /** The sorted slots, after merging queued changes. Valid until the next add/remove. */
  view(): readonly ChannelSlot[] {
    if (this.removes.length > 0) this.flushRemoves();
    if (this.adds.length > 0) this.flushAdds();
    return this.arr;
  }

  /** Changes whenever positions in the sorted array may have changed (caches of ranges compare it). */
  get version(): number {
    this.view();
    return this.changes;
  }

  /** The name comparator in use (exact for every name held). */
  compare(a: string, b: string): number {
    return this.cmp(a, b);
  }

  /** First position whose name is > `name` (or >= when `inclusive`). */
  bound(name: string, inclusive: boolean): number {
    this.view();
    return this.boundIn(name, inclusive);
  }

  /**
   * Ranges (ascending, disjoint) holding every name that starts with `prefix` case-insensitively. Only the
   * leading ASCII part of the prefix narrows (in non-unicode case folding no other unit equals an ASCII one);
   * callers still test each candidate against the full pattern.
   */
  prefixRanges(prefix: string): Range[] {
    const arr = this.view();
    let ranges: Range[] = [[0, arr.length]];
    for (let i = 0; i < prefix.length && ranges.length > 0; i++) {
      const c = prefix.charCodeAt(i);
      if (c >= 128) break;
      const variants = asciiVariants(c);
      const next: Range[] = [];
      for (const [lo, hi] of ranges) {
        for (const u of variants) {
          const a = this.unitBound(lo, hi, i, u, true);
          const b = this.unitBound(a, hi, i, u, false);
          if (a < b) next.push([a, b]);
        }
      }
      ranges = next;
    }
    return ranges;
  }

  // Within [lo, hi) all names share their first `i` units, so the rank of unit `i` (-1 past the end) is sorted.
  private unitBound(lo: number, hi: number, i: number, u: number, inclusive: boolean): number {
    const arr = this.arr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const name = (arr[mid] as ChannelSlot).name;
      const k = i < name.length ? unitRank(name.charCodeAt(i)) : -1;
      if (k < u || (k === u && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private boundIn(name: string, inclusive: boolean): number {
    const arr = this.arr;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.cmp((arr[mid] as ChannelSlot).name, name);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private flushRemoves(): void {
    this.changes++;
    const removes = this.removes;
    this.removes = [];
    if (removes.length <= SPLICE_MAX) {
      for (const slot of removes) {
        const i = this.indexOf(slot);
        if (i >= 0) this.arr.splice(i, 1);
      }
    } else {
      this.arr = this.arr.filter((s) => s.state !== SLOT_DEAD);
    }
  }

  private indexOf(slot: ChannelSlot): number {
    const arr = this.arr;
    // Several slots may carry the same name (a removed one and its replacement): find this one by identity.
    for (let i = this.boundIn(slot.name, true); i < arr.length && (arr[i] as ChannelSlot).name === slot.name; i++) {
      if (arr[i] === slot) return i;
    }
    return -1;
  }

  private flushAdds(): void {
    this.changes++;
    const adds = this.adds.filter((s) => s.state === SLOT_PENDING);
    this.adds = [];
    for (const s of adds) s.state = SLOT_INDEXED;
    if (adds.length === 0) return;
    if (adds.length <= SPLICE_MAX) {
      for (const slot of adds) this.arr.splice(this.boundIn(slot.name, false), 0, slot);
      return;
    }
    const cmp = this.cmp;
    adds.sort((a, b) => cmp(a.name, b.name));
    const old = this.arr;
    if (old.length === 0) {
      this.arr = adds;
      return;
    }
    const out: ChannelSlot[] = new Array<ChannelSlot>(old.length + adds.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < adds.length) {
      const a = old[i] as ChannelSlot;
      const b = adds[j] as ChannelSlot;
      if (cmp(a.name, b.name) <= 0) { out[k++] = a; i++; } else { out[k++] = b; j++; }
    }
    while (i < old.length) out[k++] = old[i++] as ChannelSlot;
    while (j < adds.length) out[k++] = adds[j++] as ChannelSlot;
    this.arr = out;
  }
}

const variantCache: number[][] = [];

// Units equal to ASCII unit `c` under case-insensitive matching, ascending: a letter and its other case.
function asciiVariants(c: number): readonly number[] {
  let v = variantCache[c];
  if (v === undefined) {
    const ch = String.fromCharCode(c);
    const set = new Set([c, ch.toUpperCase().charCodeAt(0), ch.toLowerCase().charCodeAt(0)]);
    v = [...set].sort((a, b) => a - b);
    variantCache[c] = v;
  }
  return v;
}
