/**
 * The in-memory directory: follows the mirror's events (IOC info, alive keys, records) and derives one channel
 * per record name and alias by the recceiver conventions (docs/api.md). `apply` costs O(names touched); queries
 * walk a sorted name index and build JSON only for the page returned.
 */
import type { CfChannel, Definition, StoredChannel, StoredRecord } from '../model.js';
import type { ChannelQuery } from '../query/channel-query.js';
import type { Glob } from '../query/glob.js';
import type { DirectoryEvent } from './events.js';
import { Interner } from './intern.js';
import { compareNames } from './name-order.js';
import { compileMatcher } from './matcher.js';
import { DefinitionSet, linkApi, type DefEntry } from './definitions.js';
import { ApiNode, ChannelSlot, IocNode, RecordNode } from './nodes.js';
import { propertyCatalogue, userProperty, type PropertySource } from './properties.js';
import { SortedIndex, type Range } from './sorted-index.js';
import { toCfChannel, type RenderContext } from './to-cf.js';
import { ChannelJsonWriter } from './channel-json.js';
import { FragmentCache, type ByteRef } from './fragment-cache.js';

/** Configuration of a directory. */
export interface DirectoryOptions {
  /** Owner of every channel and nested property (default "pvsync"). */
  readonly owner?: string;
  /** Info tags published as properties of the same name (default ["archive"]). */
  readonly infoWhitelist?: readonly string[];
  /**
   * Called after every apply with the names of the channels that may have changed in that revision, or with
   * null after a snapshot (the first apply, or the first after clear()): then anything may have changed.
   */
  readonly onApplied?: (revision: number, changed: readonly string[] | null) => void;
  /**
   * Bytes of the ring buffer caching channels' JSON text (default 32 MiB, allocated up front; 0 disables the
   * cache). Cached text is checked against what it was rendered from on every use, so it is never stale.
   */
  readonly jsonCacheBytes?: number;
}

/** A channel as stored through the API, with the revision that wrote it (the guard of the next write). */
export interface StoredEntry {
  readonly channel: StoredChannel;
  readonly modRevision: number;
}

/** A property or tag definition; `implicit` for managed properties nobody defined explicitly. */
export interface DefinitionEntry extends Definition {
  readonly modRevision: number;
  readonly implicit: boolean;
}

/** One page of a search, with the number of all matches when asked for. */
export interface SearchResult {
  readonly channels: CfChannel[];
  /** Every match of the filters, ignoring paging (size, from, search_after); null unless requested. */
  readonly total: number | null;
}

/** One page of a search as JSON text: an array of ChannelFinder channels, as the HTTP API sends it. */
export interface JsonPage {
  /** The JSON array of the page's channels, in name order, as UTF-8 (a fresh array the caller owns). */
  readonly json: Uint8Array;
  /** Channels in the page. */
  readonly length: number;
  /** Name of the page's last channel, null when the page is empty. */
  readonly lastName: string | null;
  /** Every match of the filters, ignoring paging; null unless requested. */
  readonly total: number | null;
}

/** A name served by several live IOCs at once. `iocIds` sorted; the channel follows the latest upload. */
export interface Conflict {
  readonly name: string;
  readonly iocIds: string[];
}

const EMPTY: readonly string[] = [];

interface ScanPlan {
  readonly indexVersion: number;
  readonly defsVersion: number;
  readonly pred: ReturnType<typeof compileMatcher>;
  readonly ranges: readonly Range[];
  readonly rangeSize: number;
}
const UTF8 = new TextEncoder();
const freshBytes = (n: number): Uint8Array => new Uint8Array(n);

// Pages longer than this do not keep their scratch arrays.
const SCRATCH_KEEP = 65_536;

// Below this many candidates a plain scan beats looking through every IOC.
const SMALL_SCAN = 256;

/** The directory index. Single-threaded; every method is synchronous. */
export class Directory {
  /** Owner written on channels and properties. */
  readonly owner: string;
  private readonly catalogue: readonly PropertySource[];
  private readonly whitelist: ReadonlySet<string>;
  private readonly iocs = new Map<string, IocNode>();
  private readonly channels = new Map<string, ChannelSlot>();
  private readonly index = new SortedIndex();
  private readonly multi = new Set<ChannelSlot>();
  private readonly strings = new Interner();
  private dirty = new Set<ChannelSlot>();
  private rev = 0;
  private readonly propDefs = new DefinitionSet();
  private readonly tagDefs = new DefinitionSet();
  /** Slots written through the API that no IOC serves. */
  private readonly apiOnly = new Set<ChannelSlot>();
  private sourceCache: { version: number; list: readonly PropertySource[] } | null = null;
  private snapshotNext = true;
  private readonly onApplied: DirectoryOptions['onApplied'];
  private readonly render: RenderContext;
  private readonly writer: ChannelJsonWriter;
  private readonly fragments: FragmentCache;
  /** A channel's JSON text and a comma (as the fragment cache stores it). */
  private readonly renderJson = (slot: ChannelSlot): string => this.writer.write(slot, ',');
  // Per parsed query (the HTTP layer reuses the object of a repeated query string): its compiled predicate and
  // name ranges, valid while the sorted index and the property definitions are unchanged.
  private readonly plans = new WeakMap<ChannelQuery, ScanPlan>();
  // Per IOC, the channels it serves in name order (IOC-level property filters), and the apply they hold for.
  private readonly served = new WeakMap<IocNode, { readonly applies: number; readonly slots: readonly ChannelSlot[] }>();
  /** Counts apply() and clear() calls: anything may have changed in between. */
  private applies = 0;
  private readonly ref: ByteRef = { src: new Uint8Array(0), start: 0, end: 0 };
  // Scratch of pageBytes, grown as needed (every method is synchronous): where each channel's bytes are.
  private pageSrcs: Uint8Array[] = [];
  private pageStarts = new Int32Array(0);
  private pageEnds = new Int32Array(0);
  private pageAts = new Float64Array(0);

  constructor(opts: DirectoryOptions = {}) {
    this.owner = opts.owner ?? 'pvsync';
    this.catalogue = propertyCatalogue(opts.infoWhitelist ?? ['archive']);
    this.whitelist = new Set(this.catalogue.map((p) => p.name));
    this.onApplied = opts.onApplied;
    const managed = this.whitelist;
    this.render = {
      catalogue: this.catalogue, owner: this.owner, managed,
      propertyOwner: (n) => this.propDefs.defs.get(n)?.owner ?? (managed.has(n) ? this.owner : undefined),
      tagOwner: (n) => this.tagDefs.defs.get(n)?.owner,
    };
    this.writer = new ChannelJsonWriter(this.render, () => this.defsStamp());
    this.fragments = new FragmentCache(opts.jsonCacheBytes ?? 32 * 2 ** 20);
  }

  /** The etcd revision of the last applied batch (0 when empty or just cleared). */
  get revision(): number {
    return this.rev;
  }

  /** Number of channels. */
  get size(): number {
    return this.channels.size;
  }

  /** Apply every event of one revision (or of a snapshot at that revision), in any key order. */
  apply(events: readonly DirectoryEvent[], revision: number): void {
    this.applies++;
    const touched = new Set<IocNode>();
    const shrunk = new Set<IocNode>();
    const snapshot = this.snapshotNext;
    this.snapshotNext = false;
    const changed = snapshot || this.onApplied === undefined ? null : new Set<string>();
    // A definition of a managed property (hostName, pvStatus, …) restyles every IOC channel: report "anything".
    let everything = false;
    const addNames = (names: readonly string[] | undefined): void => {
      if (changed !== null && names !== undefined) for (const n of names) changed.add(n);
    };
    const addUsers = (set: DefinitionSet, name: string): void => {
      if (changed !== null) for (const slot of set.usersOf(name)) changed.add(slot.name);
    };
    for (const ev of events) {
      switch (ev.kind) {
        case 'iocInfo': {
          const ioc = this.iocFor(ev.iocId);
          ioc.setInfo(ev.value);
          touched.add(ioc);
          break;
        }
        case 'alive': {
          const ioc = this.iocFor(ev.iocId);
          ioc.alive = ev.value !== null;
          touched.add(ioc);
          break;
        }
        case 'record': {
          const ioc = this.iocFor(ev.iocId);
          addNames(ioc.records.get(ev.name)?.channelNames());
          this.putRecord(ioc, ev.name, ev.value);
          addNames(ioc.records.get(ev.name)?.channelNames());
          if (ev.value === null) shrunk.add(ioc);
          break;
        }
        case 'channel':
          changed?.add(ev.name);
          this.putApi(ev.name, ev.value, ev.modRevision);
          break;
        case 'propertyDef':
          this.propDefs.put(ev.name, ev.value === null ? null : { owner: ev.value.owner, modRevision: ev.modRevision });
          addUsers(this.propDefs, ev.name);
          if (this.isManagedProperty(ev.name)) everything = true;
          break;
        case 'tagDef':
          this.tagDefs.put(ev.name, ev.value === null ? null : { owner: ev.value.owner, modRevision: ev.modRevision });
          addUsers(this.tagDefs, ev.name);
          break;
        default:
          ev satisfies never;
      }
    }
    // A changed IOC (liveness, upload time) may change the winner of every shared name it serves.
    for (const ioc of touched) {
      for (const rec of ioc.records.values()) {
        for (const name of rec.channelNames()) {
          changed?.add(name);
          const slot = this.channels.get(name);
          if (slot !== undefined && Array.isArray(slot.cands)) this.dirty.add(slot);
        }
      }
    }
    for (const ioc of [...touched, ...shrunk]) {
      if (ioc.info === null && !ioc.alive && ioc.records.size === 0) this.iocs.delete(ioc.id);
    }
    for (const slot of this.dirty) {
      if (Array.isArray(slot.cands)) slot.win = pickWinner(slot.name, slot.cands);
    }
    this.dirty.clear();
    this.rev = revision;
    this.onApplied?.(revision, changed === null || everything ? null : [...changed]);
  }

  /** Forget everything (the mirror re-lists next). */
  clear(): void {
    this.applies++;
    this.iocs.clear();
    this.channels.clear();
    this.index.clear();
    this.multi.clear();
    this.strings.clear();
    this.dirty.clear();
    this.propDefs.clear();
    this.tagDefs.clear();
    this.apiOnly.clear();
    this.fragments.clear();
    this.rev = 0;
    this.snapshotNext = true;
  }

  /** The channel named exactly `name` (case-sensitive), or undefined. */
  get(name: string): CfChannel | undefined {
    const slot = this.channels.get(name);
    return slot === undefined ? undefined : toCfChannel(slot, this.render);
  }

  /** One page of the channels matching `q`, sorted by name; `total` counts every match when `withTotal`. */
  search(q: ChannelQuery, withTotal = false): SearchResult {
    const slots: ChannelSlot[] = [];
    const total = this.scan(q, q.size, withTotal, slots);
    return {
      channels: slots.map((s) => toCfChannel(s, this.render)),
      total: withTotal ? total : null,
    };
  }

  /**
   * The JSON text (UTF-8, a fresh array) of channel `name` (case-sensitive), or undefined: the same object `get`
   * returns, serialized.
   */
  getJson(name: string): Uint8Array | undefined {
    const slot = this.channels.get(name);
    if (slot === undefined) return undefined;
    const ref = this.ref;
    this.fragments.resolve(slot, this.defsStamp(), this.renderJson, ref);
    return ref.src.slice(ref.start, ref.end - 1); // without the comma
  }

  /**
   * One page of the channels matching `q` as JSON text: the same page as `search`, serialized. The bytes are
   * written into `alloc(n)` (at least n bytes; a fresh array by default) and returned as a view of its first n.
   */
  searchJson(q: ChannelQuery, withTotal = false, alloc: (bytes: number) => Uint8Array = freshBytes): JsonPage {
    const slots: ChannelSlot[] = [];
    const total = this.scan(q, q.size, withTotal, slots);
    return {
      json: this.pageBytes(slots, alloc),
      length: slots.length,
      lastName: slots.at(-1)?.name ?? null,
      total: withTotal ? total : null,
    };
  }

  /** Entries, estimated bytes, hits and misses of the cache of channels' JSON text. */
  jsonCacheStats(): { entries: number; bytes: number; hits: number; misses: number } {
    return this.fragments.stats();
  }

  /** A test of channel names against the filters of `q` as the directory stands now (paging ignored). */
  matcher(q: ChannelQuery): (name: string) => boolean {
    const pred = compileMatcher(q, this.sources(), (s) => this.visibleTags(s));
    return (name) => {
      const slot = this.channels.get(name);
      return slot !== undefined && pred !== null && pred(slot);
    };
  }

  /** How many channels match `q` (paging parameters are ignored, as upstream). */
  count(q: ChannelQuery): number {
    return this.scan({ ...q, from: 0, searchAfter: null }, 0, true, []);
  }

  /** Names served by two or more live IOCs, sorted by name. */
  conflicts(): Conflict[] {
    const out: Conflict[] = [];
    for (const slot of this.multi) {
      const ids = new Set<string>();
      for (const c of slot.cands as RecordNode[]) if (c.active) ids.add(c.ioc.id);
      if (ids.size >= 2) out.push({ name: slot.name, iocIds: [...ids].sort(this.index.compare.bind(this.index)) });
    }
    return out.sort((a, b) => this.index.compare(a.name, b.name));
  }

  /** Names of every property: the managed ones (with whitelisted info tags), then the defined ones by name. */
  propertyNames(): string[] {
    const extra = [...this.propDefs.defs.keys()].filter((n) => !this.whitelist.has(n)).sort(compareNames);
    return [...this.catalogue.map((p) => p.name), ...extra];
  }

  /** Names of every defined tag, sorted. */
  tagNames(): string[] {
    return [...this.tagDefs.defs.keys()].sort(compareNames);
  }

  /** The definition of property `name` (managed properties are always defined), or undefined. */
  propertyDefinition(name: string): DefinitionEntry | undefined {
    return defEntry(name, this.propDefs.defs.get(name), this.whitelist.has(name) ? this.owner : undefined);
  }

  /** The definition of tag `name`, or undefined. */
  tagDefinition(name: string): DefinitionEntry | undefined {
    return defEntry(name, this.tagDefs.defs.get(name), undefined);
  }

  /** True for the properties the system manages on IOC channels. */
  isManagedProperty(name: string): boolean {
    return this.whitelist.has(name);
  }

  /** True when an IOC record (or alias) serves the channel `name`. */
  servedByIoc(name: string): boolean {
    const slot = this.channels.get(name);
    return slot !== undefined && slot.win !== null;
  }

  /** What was written through the API for channel `name` (as stored), or undefined. */
  stored(name: string): StoredEntry | undefined {
    const api = this.channels.get(name)?.api;
    if (api === undefined || api === null) return undefined;
    const properties: { name: string; value: string }[] = [];
    for (let i = 0; i < api.props.length; i += 2) properties.push({ name: api.props[i] as string, value: api.props[i + 1] as string });
    return { channel: { name, owner: api.owner, properties, tags: [...api.tags] }, modRevision: api.modRevision };
  }

  /** Names of the channels whose API-written part carries property `name` (defined or not), sorted. */
  channelsWithProperty(name: string): string[] {
    return [...this.propDefs.usersOf(name)].map((s) => s.name).sort(compareNames);
  }

  /** Names of the channels whose API-written part carries tag `name` (defined or not), sorted. */
  channelsWithTag(name: string): string[] {
    return [...this.tagDefs.usersOf(name)].map((s) => s.name).sort(compareNames);
  }

  // `[c1,c2,…]` from the cached (or freshly rendered) bytes of each channel, which end with a comma: runs of
  // channels stored one after the other copy as one block, and the last comma becomes the `]`. A page larger than
  // the ring can push its own first channels out while its last ones are rendered: those are rendered again.
  private pageBytes(slots: readonly ChannelSlot[], alloc: (bytes: number) => Uint8Array): Uint8Array {
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

  // Changes whenever any property or tag definition is written or deleted (both stamps only grow).
  private defsStamp(): number {
    return this.propDefs.stamp + this.tagDefs.stamp;
  }

  // The catalogue plus one source per defined property that is not managed; rebuilt when definitions change.
  private sources(): readonly PropertySource[] {
    const version = this.propDefs.version;
    if (this.sourceCache?.version !== version) {
      const extra = [...this.propDefs.defs.keys()].filter((n) => !this.whitelist.has(n)).map(userProperty);
      this.sourceCache = { version, list: [...this.catalogue, ...extra] };
    }
    return this.sourceCache.list;
  }

  private visibleTags(slot: ChannelSlot): readonly string[] {
    const api = slot.api;
    if (api === null || api.tags.length === 0) return EMPTY;
    return api.tags.filter((t) => this.tagDefs.defs.has(t));
  }

  private putApi(name: string, value: StoredChannel | null, modRevision: number): void {
    let slot = this.channels.get(name);
    const old = slot?.api ?? null;
    if (slot !== undefined && old !== null) linkApi(this.propDefs, this.tagDefs, slot, old, false);
    if (value === null) {
      if (slot === undefined) return;
      slot.api = null;
      if (slot.cands === null) {
        this.channels.delete(name);
        this.index.remove(slot);
        this.fragments.delete(slot);
        this.apiOnly.delete(slot);
      }
      return;
    }
    const props: string[] = [];
    for (const p of value.properties) props.push(this.strings.intern(p.name), this.strings.intern(p.value));
    const tags = value.tags.length === 0 ? EMPTY : value.tags.map((t) => this.strings.intern(t));
    const node = new ApiNode(this.strings.intern(value.owner), props, tags, modRevision);
    if (slot === undefined) {
      slot = new ChannelSlot(value.name, null);
      this.channels.set(slot.name, slot);
      this.index.add(slot);
      this.apiOnly.add(slot);
    }
    slot.api = node;
    linkApi(this.propDefs, this.tagDefs, slot, node, true);
  }

  // Walk the candidates of `q` in name order; fill `page` and return how many matched (stops early when possible).
  // The total ignores paging (as upstream's total hits); the page starts after `searchAfter`, then skips `from`.
  private scan(q: ChannelQuery, size: number, wantTotal: boolean, page: ChannelSlot[]): number {
    const arr = this.index.view();
    const { pred, ranges, rangeSize } = this.planFor(q, arr.length);
    if (pred === null) return 0;
    let matched = 0;
    let eligible = 0;
    // Returns false once the page is full and no total is wanted.
    const visit = (slot: ChannelSlot, afterStart: boolean): boolean => {
      if (!pred(slot)) return true;
      matched++;
      if (!afterStart) return true;
      eligible++;
      if (eligible > q.from && page.length < size) page.push(slot);
      else if (!wantTotal && page.length >= size) return false;
      return true;
    };
    const byIoc = this.iocCandidates(q, rangeSize);
    if (byIoc !== null) {
      const after = q.searchAfter;
      for (const slot of byIoc) {
        if (!visit(slot, after === null || this.index.compare(slot.name, after) > 0)) break;
      }
      return matched;
    }
    const start = q.searchAfter === null ? 0 : this.index.bound(q.searchAfter, false);
    for (const [lo, hi] of ranges) {
      for (let i = wantTotal ? lo : Math.max(lo, start); i < hi; i++) {
        if (!visit(arr[i] as ChannelSlot, i >= start)) return matched;
      }
    }
    return matched;
  }

  // Property predicates memoize value tests (up to thousands of values): those are compiled afresh per scan
  // rather than kept alive with the query.
  private planFor(q: ChannelQuery, n: number): ScanPlan {
    const indexVersion = this.index.version;
    const defsVersion = this.propDefs.version;
    let plan = this.plans.get(q);
    if (plan === undefined || plan.indexVersion !== indexVersion || plan.defsVersion !== defsVersion) {
      plan = {
        indexVersion, defsVersion,
        pred: compileMatcher(q, this.sources(), (s) => this.visibleTags(s)),
        ...this.candidateRanges(q, n),
      };
      if (q.properties.length === 0) this.plans.set(q, plan);
    }
    return plan;
  }

  // The smallest set of ranges given by the literal prefixes of one ~name term (the whole index without one).
  private candidateRanges(q: ChannelQuery, n: number): { ranges: readonly Range[]; rangeSize: number } {
    let ranges: readonly Range[] = [[0, n]];
    let rangeSize = n;
    for (const term of q.names) {
      if (term.anyOf.some((g) => g.prefix === '')) continue;
      const r = mergeRanges(term.anyOf.flatMap((g) => this.index.prefixRanges(g.prefix)));
      const size = r.reduce((acc, [lo, hi]) => acc + hi - lo, 0);
      if (size < rangeSize) {
        ranges = r;
        rangeSize = size;
      }
    }
    return { ranges, rangeSize };
  }

  /**
   * When a property term holds only on IOC-level properties (`iocName=X`, `hostName=h*`), the channels whose
   * winner belongs to a matching IOC, sorted by name; null when that is not smaller than `limit` candidates.
   */
  private iocCandidates(q: ChannelQuery, limit: number): readonly ChannelSlot[] | null {
    if (q.properties.length === 0 || limit < SMALL_SCAN) return null;
    let best: IocNode[] | null = null;
    let bestSources: readonly PropertySource[] = [];
    let bestGlobs: readonly Glob[] = [];
    let bestCount = limit / 2; // sorting costs: only worth it well below the range scan
    for (const term of q.properties) {
      const sources = this.sources().filter((p) => term.name.test(p.name));
      if (sources.length === 0 || sources.some((p) => p.ofIoc === undefined)) continue;
      if (term.anyOf.some((a) => a.kind !== 'has' || a.negated)) continue;
      const globs = term.anyOf.flatMap((a) => (a.kind === 'has' ? [a.value] : []));
      const iocs: IocNode[] = [];
      let count = this.apiOnly.size; // channels no IOC serves are tested one by one
      for (const ioc of this.iocs.values()) {
        const hit = sources.some((p) => {
          const v = p.ofIoc?.(ioc);
          return v !== undefined && globs.some((g) => g.test(v));
        });
        if (hit) {
          iocs.push(ioc);
          count += ioc.records.size;
        }
      }
      if (count < bestCount) {
        best = iocs;
        bestSources = sources;
        bestGlobs = globs;
        bestCount = count;
      }
    }
    if (best === null) return null;
    const out: ChannelSlot[] = [];
    for (const slot of this.apiOnly) {
      if (bestSources.some((p) => {
        const v = p.get(slot);
        return v !== undefined && bestGlobs.some((g) => g.test(v));
      })) out.push(slot);
    }
    if (out.length === 0 && best.length === 1) return this.servedBy(best[0] as IocNode);
    for (const ioc of best) for (const slot of this.servedBy(ioc)) out.push(slot);
    // Sorted runs, one per IOC: the sort merges them.
    return out.sort((a, b) => this.index.compare(a.name, b.name));
  }

  // The channels whose winner is a record of `ioc`, sorted by name; kept until the next apply or clear.
  private servedBy(ioc: IocNode): readonly ChannelSlot[] {
    const have = this.served.get(ioc);
    if (have !== undefined && have.applies === this.applies) return have.slots;
    const slots: ChannelSlot[] = [];
    for (const rec of ioc.records.values()) {
      for (const name of rec.channelNames()) {
        const slot = this.channels.get(name);
        if (slot !== undefined && slot.win === rec) slots.push(slot);
      }
    }
    slots.sort((a, b) => this.index.compare(a.name, b.name));
    this.served.set(ioc, { applies: this.applies, slots });
    return slots;
  }

  private iocFor(id: string): IocNode {
    let ioc = this.iocs.get(id);
    if (ioc === undefined) {
      ioc = new IocNode(id);
      this.iocs.set(id, ioc);
    }
    return ioc;
  }

  private putRecord(ioc: IocNode, name: string, value: StoredRecord | null): void {
    const old = ioc.records.get(name);
    if (value === null) {
      if (old === undefined) return;
      ioc.records.delete(name);
      for (const n of old.channelNames()) this.removeCandidate(n, old);
      return;
    }
    // The name parsed from JSON is a flat string; the one cut from the etcd key would keep the whole key alive.
    const rec = this.toNode(ioc, value.name === name ? value.name : name, value);
    ioc.records.set(rec.name, rec);
    if (old === undefined) {
      for (const n of rec.channelNames()) this.addCandidate(n, rec);
      return;
    }
    const before = old.channelNames();
    const after = rec.channelNames();
    const keep = new Set(after);
    for (const n of before) {
      if (keep.has(n)) this.replaceCandidate(n, old, rec);
      else this.removeCandidate(n, old);
    }
    const had = new Set(before);
    for (const n of after) if (!had.has(n)) this.addCandidate(n, rec);
  }

  private toNode(ioc: IocNode, name: string, r: StoredRecord): RecordNode {
    let infos = EMPTY;
    for (const key in r.infos) {
      if (!this.whitelist.has(key)) continue;
      const value = r.infos[key] as string;
      infos = infos === EMPTY ? [] : infos;
      (infos as string[]).push(this.strings.intern(key), this.strings.intern(value));
    }
    const aliases = r.aliases.length === 0 ? EMPTY : r.aliases.filter((a) => a !== name);
    return new RecordNode(ioc, name, this.strings.intern(r.type), r.desc ?? '', infos, aliases, r.gone === true,
      r.file === undefined ? '' : this.strings.intern(r.file), r.line ?? 0);
  }

  private addCandidate(name: string, rec: RecordNode): void {
    const slot = this.channels.get(name);
    if (slot === undefined) {
      const fresh = new ChannelSlot(name, rec);
      this.channels.set(name, fresh);
      this.index.add(fresh);
      return;
    }
    if (slot.cands === null) {
      slot.cands = rec;
      slot.win = rec;
      this.apiOnly.delete(slot);
      return;
    }
    if (Array.isArray(slot.cands)) slot.cands.push(rec);
    else {
      slot.cands = [slot.cands, rec];
      this.multi.add(slot);
    }
    this.dirty.add(slot);
  }

  private removeCandidate(name: string, rec: RecordNode): void {
    const slot = this.channels.get(name);
    if (slot === undefined) return;
    if (slot.cands === null) return;
    if (!Array.isArray(slot.cands)) {
      if (slot.cands !== rec) return;
      this.dirty.delete(slot);
      if (slot.api !== null) {
        // Written through the API too: the channel stays, as written.
        slot.cands = null;
        slot.win = null;
        this.apiOnly.add(slot);
        return;
      }
      this.channels.delete(name);
      this.index.remove(slot);
      this.fragments.delete(slot);
      return;
    }
    const rest = slot.cands.filter((c) => c !== rec);
    if (rest.length === 1) {
      const only = rest[0] as RecordNode;
      slot.cands = only;
      slot.win = only;
      this.multi.delete(slot);
      this.dirty.delete(slot);
    } else {
      slot.cands = rest;
      this.dirty.add(slot);
    }
  }

  private replaceCandidate(name: string, old: RecordNode, rec: RecordNode): void {
    const slot = this.channels.get(name);
    if (slot === undefined || slot.cands === null) return;
    if (!Array.isArray(slot.cands)) {
      if (slot.cands === old) {
        slot.cands = rec;
        slot.win = rec;
      }
      return;
    }
    const i = slot.cands.indexOf(old);
    if (i >= 0) slot.cands[i] = rec;
    if (slot.win === old) slot.win = rec;
    this.dirty.add(slot); // `gone` may have changed
  }
}

/**
 * The candidate a name follows: Active before Inactive, then the latest IOC upload time, then the smaller iocId,
 * then the record itself before an alias of another record, then the smaller record name.
 */
export function pickWinner(name: string, cands: readonly RecordNode[]): RecordNode {
  let best = cands[0] as RecordNode;
  for (let i = 1; i < cands.length; i++) {
    const c = cands[i] as RecordNode;
    if (beats(name, c, best)) best = c;
  }
  return best;
}

function beats(name: string, a: RecordNode, b: RecordNode): boolean {
  const aa = a.active;
  if (aa !== b.active) return aa;
  if (a.ioc.updatedMs !== b.ioc.updatedMs) return a.ioc.updatedMs > b.ioc.updatedMs;
  if (a.ioc.id !== b.ioc.id) return compareNames(a.ioc.id, b.ioc.id) < 0;
  const aOwn = a.name === name;
  if (aOwn !== (b.name === name)) return aOwn;
  return compareNames(a.name, b.name) < 0;
}

function mergeRanges(ranges: Range[]): Range[] {
  if (ranges.length <= 1) return ranges;
  ranges.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    const last = out.at(-1);
    if (last !== undefined && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function defEntry(name: string, def: DefEntry | undefined, implicitOwner: string | undefined): DefinitionEntry | undefined {
  if (def !== undefined) return { name, owner: def.owner, modRevision: def.modRevision, implicit: false };
  if (implicitOwner !== undefined) return { name, owner: implicitOwner, modRevision: 0, implicit: true };
  return undefined;
}
