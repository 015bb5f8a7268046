/**
 * The in-memory directory the API serves: the derivation (derivation.ts: events → channels by the recceiver
 * conventions), its query executor (query-executor.ts) and its JSON pager (json-pager.ts) behind one facade.
 * `apply` costs O(names touched); queries walk a sorted name index and build JSON only for the page returned.
 */
import type { CfChannel } from '../model.js';
import type { ChannelQuery } from '../query/channel-query.js';
import { Derivation, type Conflict, type DefinitionEntry, type DerivationOptions, type StoredEntry } from './derivation.js';
import type { DirectoryEvent } from './events.js';
import { JsonPager } from './json-pager.js';
import type { ChannelSlot } from './nodes.js';
import { QueryExecutor } from './query-executor.js';
import { toCfChannel } from './to-cf.js';

export type { Conflict, DefinitionEntry, StoredEntry } from './derivation.js';
export { pickWinner } from './winner.js';

/** Configuration of a directory. */
export interface DirectoryOptions extends Omit<DerivationOptions, 'onSlotDropped'> {
  /**
   * Bytes of the ring buffer caching channels' JSON text (default 32 MiB, allocated up front; 0 disables the
   * cache). Cached text is checked against what it was rendered from on every use, so it is never stale.
   */
  readonly jsonCacheBytes?: number;
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

const freshBytes = (n: number): Uint8Array => new Uint8Array(n);

/**
 * A query answered in steps: `step(budget)` tests up to `budget` more candidates and returns the answer once done,
 * null before. The caller may run other work between steps; the answer is that of the directory as it stands after
 * the last step (a scan that sees the directory change between steps starts over, at most twice).
 */
export interface SteppedQuery<T> {
  step(budget: number): T | null;
}

/** The directory index. Single-threaded; every method is synchronous. */
export class Directory {
  /** Owner written on channels and properties. */
  readonly owner: string;
  private readonly state: Derivation;
  private readonly queries: QueryExecutor;
  private readonly pager: JsonPager;

  constructor(opts: DirectoryOptions = {}) {
    const { jsonCacheBytes, ...derivation } = opts;
    // Slots leave only during apply(), once the pager exists.
    this.state = new Derivation({ ...derivation, onSlotDropped: (slot) => this.pager.forget(slot) });
    this.owner = this.state.owner;
    this.queries = new QueryExecutor(this.state);
    this.pager = new JsonPager(this.state.render, () => this.state.defsStamp(), jsonCacheBytes ?? 32 * 2 ** 20);
  }

  /** The derived channels on their own (for consumers that need neither queries nor JSON). */
  get derivation(): Derivation {
    return this.state;
  }

  /** The etcd revision of the last applied batch (0 when empty or just cleared). */
  get revision(): number {
    return this.state.revision;
  }

  /** Number of channels. */
  get size(): number {
    return this.state.size;
  }

  /** Apply every event of one revision (or of a snapshot at that revision), in any key order. */
  apply(events: readonly DirectoryEvent[], revision: number): void {
    this.state.apply(events, revision);
  }

  /** Forget everything (the mirror re-lists next). */
  clear(): void {
    this.state.clear();
    this.pager.clear();
  }

  /** The channel named exactly `name` (case-sensitive), or undefined. */
  get(name: string): CfChannel | undefined {
    return this.state.get(name);
  }

  /** One page of the channels matching `q`, sorted by name; `total` counts every match when `withTotal`. */
  search(q: ChannelQuery, withTotal = false): SearchResult {
    const slots: ChannelSlot[] = [];
    const total = this.queries.scan(q, q.size, withTotal, slots);
    const render = this.state.render;
    return {
      channels: slots.map((s) => toCfChannel(s, render)),
      total: withTotal ? total : null,
    };
  }

  /** `search` in steps (see SteppedQuery): the same page, with the other work run between steps. */
  startSearch(q: ChannelQuery, withTotal = false): SteppedQuery<SearchResult> {
    const slots: ChannelSlot[] = [];
    const run = this.queries.startScan(q, q.size, withTotal, slots);
    const render = this.state.render;
    return {
      step: (budget) => (!run.step(budget) ? null : {
        channels: slots.map((s) => toCfChannel(s, render)),
        total: withTotal ? run.matched : null,
      }),
    };
  }

  /**
   * The JSON text (UTF-8, a fresh array) of channel `name` (case-sensitive), or undefined: the same object `get`
   * returns, serialized.
   */
  getJson(name: string): Uint8Array | undefined {
    const slot = this.state.table.get(name);
    return slot === undefined ? undefined : this.pager.channel(slot);
  }

  /**
   * One page of the channels matching `q` as JSON text: the same page as `search`, serialized. The bytes are
   * written into `alloc(n)` (at least n bytes; a fresh array by default) and returned as a view of its first n.
   */
  searchJson(q: ChannelQuery, withTotal = false, alloc: (bytes: number) => Uint8Array = freshBytes): JsonPage {
    const slots: ChannelSlot[] = [];
    const total = this.queries.scan(q, q.size, withTotal, slots);
    return {
      json: this.pager.page(slots, alloc),
      length: slots.length,
      lastName: slots.at(-1)?.name ?? null,
      total: withTotal ? total : null,
    };
  }

  /** `searchJson` in steps (see SteppedQuery): the same page, with the other work run between steps. */
  startSearchJson(q: ChannelQuery, withTotal = false, alloc: (bytes: number) => Uint8Array = freshBytes): SteppedQuery<JsonPage> {
    const slots: ChannelSlot[] = [];
    const run = this.queries.startScan(q, q.size, withTotal, slots);
    return {
      step: (budget) => (!run.step(budget) ? null : {
        json: this.pager.page(slots, alloc),
        length: slots.length,
        lastName: slots.at(-1)?.name ?? null,
        total: withTotal ? run.matched : null,
      }),
    };
  }

  /** `count` in steps (see SteppedQuery). */
  startCount(q: ChannelQuery): SteppedQuery<number> {
    const run = this.queries.startScan({ ...q, from: 0, searchAfter: null }, 0, true, []);
    return { step: (budget) => (run.step(budget) ? run.matched : null) };
  }

  /** Entries, estimated bytes, hits and misses of the cache of channels' JSON text. */
  jsonCacheStats(): { entries: number; bytes: number; hits: number; misses: number } {
    return this.pager.stats();
  }

  /** A test of channel names against the filters of `q` as the directory stands now (paging ignored). */
  matcher(q: ChannelQuery): (name: string) => boolean {
    return this.queries.matcher(q);
  }

  /** How many channels match `q` (paging parameters are ignored, as upstream). */
  count(q: ChannelQuery): number {
    return this.queries.scan({ ...q, from: 0, searchAfter: null }, 0, true, []);
  }

  /** Names served by two or more live IOCs, sorted by name. */
  conflicts(): Conflict[] {
    return this.state.conflicts();
  }

  /** Names of every property: the managed ones (with whitelisted info tags), then the defined ones by name. */
  propertyNames(): string[] {
    return this.state.propertyNames();
  }

  /** Names of every defined tag, sorted. */
  tagNames(): string[] {
    return this.state.tagNames();
  }

  /** The definition of property `name` (managed properties are always defined), or undefined. */
  propertyDefinition(name: string): DefinitionEntry | undefined {
    return this.state.propertyDefinition(name);
  }

  /** The definition of tag `name`, or undefined. */
  tagDefinition(name: string): DefinitionEntry | undefined {
    return this.state.tagDefinition(name);
  }

  /** True for the properties the system manages on IOC channels. */
  isManagedProperty(name: string): boolean {
    return this.state.isManagedProperty(name);
  }

  /** True when an IOC record (or alias) serves the channel `name`. */
  servedByIoc(name: string): boolean {
    return this.state.servedByIoc(name);
  }

  /** What was written through the API for channel `name` (as stored), or undefined. */
  stored(name: string): StoredEntry | undefined {
    return this.state.stored(name);
  }

  /** Names of the channels whose API-written part carries property `name` (defined or not), sorted. */
  channelsWithProperty(name: string): string[] {
    return this.state.channelsWithProperty(name);
  }

  /** Names of the channels whose API-written part carries tag `name` (defined or not), sorted. */
  channelsWithTag(name: string): string[] {
    return this.state.channelsWithTag(name);
  }
}
