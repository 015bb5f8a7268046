/**
 * Pages of channels as ChannelFinder JSON text (UTF-8), from a bounded cache of each channel's rendered bytes
 * (fragment-cache.ts) so that a repeated page is mostly copies; scratch arrays are reused between pages.
 */
import { ChannelJsonWriter } from './channel-json.js';
import { FragmentCache, type ByteRef } from './fragment-cache.js';
import type { ChannelSlot } from './nodes.js';
import type { RenderContext } from './to-cf.js';

const UTF8 = new TextEncoder();

// Pages longer than this do not keep their scratch arrays.
const SCRATCH_KEEP = 65_536;

/** Renders channels and pages to JSON bytes. Single-threaded; `defsStamp` changes with any definition. */
export class JsonPager {
  private readonly writer: ChannelJsonWriter;
  private readonly fragments: FragmentCache;
  /** A channel's JSON text and a comma (as the fragment cache stores it). */
  private readonly renderJson = (slot: ChannelSlot): string => this.writer.write(slot, ',');
  private readonly ref: ByteRef = { src: new Uint8Array(0), start: 0, end: 0 };
  // Scratch of page(), grown as needed (every method is synchronous): where each channel's bytes are.
  private pageSrcs: Uint8Array[] = [];
  private pageStarts = new Int32Array(0);
  private pageEnds = new Int32Array(0);
  private pageAts = new Float64Array(0);

  /** `cacheBytes`: size of the ring of rendered text, allocated up front (0 disables the cache). */
  constructor(render: RenderContext, private readonly defsStamp: () => number, cacheBytes: number) {
    this.writer = new ChannelJsonWriter(render, defsStamp);
    this.fragments = new FragmentCache(cacheBytes);
  }

  /** The JSON text of one channel (a fresh array). */
  channel(slot: ChannelSlot): Uint8Array {
    const ref = this.ref;
    this.fragments.resolve(slot, this.defsStamp(), this.renderJson, ref);
    return ref.src.slice(ref.start, ref.end - 1); // without the comma
  }

  /**
   * `[c1,c2,…]` from the cached (or freshly rendered) bytes of each channel, which end with a comma: runs of
   * channels stored one after the other copy as one block, and the last comma becomes the `]`. Written into
   * `alloc(n)` (at least n bytes) and returned as a view of its first n.
   */
  page(slots: readonly ChannelSlot[], alloc: (bytes: number) => Uint8Array): Uint8Array {
    const n = slots.length;
    const defs = this.defsStamp();
    const ref = this.ref;
    if (this.pageStarts.length < n) {
      const cap = Math.max(n, this.pageStarts.length * 2);
      this.pageStarts = new Int32Array(cap);
      this.pageEnds = new Int32Array(cap);
      this.pageAts = new Float64Array(cap);
    }
    const srcs = this.pageSrcs;
    const starts = this.pageStarts;
    const ends = this.pageEnds;
    const ats = this.pageAts;
    let total = n === 0 ? 2 : 1; // `[`, and `]` in place of the last comma
    for (let i = 0; i < n; i++) {
      ats[i] = this.fragments.resolve(slots[i] as ChannelSlot, defs, this.renderJson, ref);
      srcs[i] = ref.src;
      starts[i] = ref.start;
      ends[i] = ref.end;
      total += ref.end - ref.start;
    }
    // A page larger than the ring can push its own first channels out while its last ones are rendered: those
    // are rendered again.
    for (let i = 0; i < n; i++) {
      const at = ats[i] as number;
      if (at < 0 || this.fragments.isIntact(at)) continue;
      const bytes = UTF8.encode(this.renderJson(slots[i] as ChannelSlot));
      total += bytes.length - ((ends[i] as number) - (starts[i] as number));
      srcs[i] = bytes;
      starts[i] = 0;
      ends[i] = bytes.length;
    }
    const buf = alloc(total);
    const out = buf.length === total ? buf : buf.subarray(0, total);
    out[0] = 0x5b; // [
    let pos = 1;
    for (let i = 0; i < n;) {
      const src = srcs[i] as Uint8Array;
      const start = starts[i] as number;
      let end = ends[i] as number;
      for (i++; i < n && srcs[i] === src && starts[i] === end; i++) end = ends[i] as number;
      out.set(src.subarray(start, end), pos);
      pos += end - start;
    }
    out[total - 1] = 0x5d; // ]
    srcs.length = 0; // hold no page's arrays
    if (n > SCRATCH_KEEP) {
      this.pageStarts = new Int32Array(0);
      this.pageEnds = new Int32Array(0);
      this.pageAts = new Float64Array(0);
    }
    return out;
  }

  /** Forget the cached text of `slot` (it left the directory). */
  forget(slot: ChannelSlot): void {
    this.fragments.delete(slot);
  }

  /** Forget every cached text. */
  clear(): void {
    this.fragments.clear();
  }

  /** Entries, estimated bytes, hits and misses of the cache of channels' JSON text. */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return this.fragments.stats();
  }
}
