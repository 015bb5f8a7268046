/**
 * Answers a ChannelQuery from a derivation: plans the candidates (the name ranges of literal prefixes, or the
 * channels of the matching IOCs for IOC-level property filters), then walks them in name order with the compiled
 * predicate, stopping once the page is full unless a total is wanted. Plans are cached per parsed query.
 * A scan can also run in steps of a bounded number of candidates (`startScan`), so that the caller can let other
 * work run between them: a scan of a million names is not one block of the caller's time.
 */
import type { ChannelQuery } from '../query/channel-query.js';
import type { Glob } from '../query/glob.js';
import type { Derivation } from './derivation.js';
import { compileMatcher, type SlotPredicate } from './matcher.js';
import type { ChannelSlot, IocNode } from './nodes.js';
import type { SortedIndex } from './sorted-index.js';
import type { PropertySource } from './properties.js';
import type { Range } from './sorted-index.js';

interface ScanPlan {
  readonly indexVersion: number;
  readonly defsVersion: number;
  readonly pred: SlotPredicate;
  readonly ranges: readonly Range[];
  readonly rangeSize: number;
}

// Below this many candidates a plain scan beats looking through every IOC.
const SMALL_SCAN = 256;

// A stepped scan that saw the derivation change between its steps this many times runs its next step to the end.
const MAX_RESTARTS = 2;

/** A scan in steps (QueryExecutor.startScan). */
export interface ScanCursor {
  /**
   * Test up to `budget` more candidates (Infinity: all); true once the scan is done. When the derivation changed
   * since the previous step, the scan starts over (the page is emptied), so that the finished page and count are
   * those of the derivation as it stands after the last step; after MAX_RESTARTS the next step runs to the end.
   */
  step(budget: number): boolean;
  /** Candidates that matched so far; once done, the scan's result (as `scan` returns it). */
  readonly matched: number;
  /** Times the scan started over. */
  readonly restarts: number;
}

// What one scan walks, as the derivation stood when it (re)started.
interface Prepared {
  readonly index: SortedIndex;
  readonly arr: readonly ChannelSlot[];
  readonly pred: SlotPredicate | null;
  readonly ranges: readonly Range[];
  readonly byIoc: readonly ChannelSlot[] | null;
  readonly start: number;
}

/** Query planner and executor over one derivation. Single-threaded; every method is synchronous. */
export class QueryExecutor {
  // Per parsed query (the HTTP layer reuses the object of a repeated query string): its compiled predicate and
  // name ranges, valid while the sorted index and the property definitions are unchanged.
  private readonly plans = new WeakMap<ChannelQuery, ScanPlan>();
  // Per IOC, the channels it serves in name order (IOC-level property filters), and the generation they hold for.
  private readonly served = new WeakMap<IocNode, { readonly generation: number; readonly slots: readonly ChannelSlot[] }>();

  constructor(private readonly state: Derivation) {}

  /** A test of channel names against the filters of `q` as the derivation stands now (paging ignored). */
  matcher(q: ChannelQuery): (name: string) => boolean {
    const state = this.state;
    const pred = compileMatcher(q, state.sources(), (s) => state.visibleTags(s));
    return (name) => {
      const slot = state.table.get(name);
      return slot !== undefined && pred !== null && pred(slot);
    };
  }

  /**
   * Walk the candidates of `q` in name order; fill `page` (up to `size`) and return how many matched (stops early
   * when possible). The total ignores paging (as upstream's total hits); the page starts after `searchAfter`,
   * then skips `from`.
   */
  scan(q: ChannelQuery, size: number, wantTotal: boolean, page: ChannelSlot[]): number {
    const run = this.startScan(q, size, wantTotal, page);
    run.step(Infinity);
    return run.matched;
  }

  /** The same scan as `scan`, in steps of at most `budget` candidates each (see ScanCursor). */
  startScan(q: ChannelQuery, size: number, wantTotal: boolean, page: ChannelSlot[]): ScanCursor {
    return new SteppedScan(() => this.prepare(q), () => this.state.generation, q, size, wantTotal, page);
  }

  private prepare(q: ChannelQuery): Prepared {
    const index = this.state.table.index;
    const arr = index.view();
    const { pred, ranges, rangeSize } = this.planFor(q, arr.length);
    const byIoc = pred === null ? null : this.iocCandidates(q, rangeSize);
    const start = q.searchAfter === null ? 0 : index.bound(q.searchAfter, false);
    return { index, arr, pred, ranges, byIoc, start };
  }

  // Property predicates memoize value tests (up to thousands of values): those are compiled afresh per scan
  // rather than kept alive with the query.
  private planFor(q: ChannelQuery, n: number): ScanPlan {
    const state = this.state;
    const indexVersion = state.table.index.version;
    const defsVersion = state.propertyDefsVersion;
    let plan = this.plans.get(q);
    if (plan === undefined || plan.indexVersion !== indexVersion || plan.defsVersion !== defsVersion) {
      plan = {
        indexVersion, defsVersion,
        pred: compileMatcher(q, state.sources(), (s) => state.visibleTags(s)),
        ...this.candidateRanges(q, n),
      };
      if (q.properties.length === 0) this.plans.set(q, plan);
    }
    return plan;
  }

  // The smallest set of ranges given by the literal prefixes of one ~name term (the whole index without one).
  private candidateRanges(q: ChannelQuery, n: number): { ranges: readonly Range[]; rangeSize: number } {
    const index = this.state.table.index;
    let ranges: readonly Range[] = [[0, n]];
    let rangeSize = n;
    for (const term of q.names) {
      if (term.anyOf.some((g) => g.prefix === '')) continue;
      const r = mergeRanges(term.anyOf.flatMap((g) => index.prefixRanges(g.prefix)));
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
    const state = this.state;
    const apiOnly = state.table.apiOnly;
    let best: IocNode[] | null = null;
    let bestSources: readonly PropertySource[] = [];
    let bestGlobs: readonly Glob[] = [];
    let bestCount = limit / 2; // sorting costs: only worth it well below the range scan
    for (const term of q.properties) {
      const sources = state.sources().filter((p) => term.name.test(p.name));
      if (sources.length === 0 || sources.some((p) => p.ofIoc === undefined)) continue;
      if (term.anyOf.some((a) => a.kind !== 'has' || a.negated)) continue;
      const globs = term.anyOf.flatMap((a) => (a.kind === 'has' ? [a.value] : []));
      const iocs: IocNode[] = [];
      let count = apiOnly.size; // channels no IOC serves are tested one by one
      for (const ioc of state.iocs.values()) {
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
    for (const slot of apiOnly) {
      if (bestSources.some((p) => {
        const v = p.get(slot);
        return v !== undefined && bestGlobs.some((g) => g.test(v));
      })) out.push(slot);
    }
    if (out.length === 0 && best.length === 1) return this.servedBy(best[0] as IocNode);
    for (const ioc of best) for (const slot of this.servedBy(ioc)) out.push(slot);
    // Sorted runs, one per IOC: the sort merges them.
    const index = state.table.index;
    return out.sort((a, b) => index.compare(a.name, b.name));
  }

  // The channels whose winner is a record of `ioc`, sorted by name; kept until the next apply or clear.
  private servedBy(ioc: IocNode): readonly ChannelSlot[] {
    const generation = this.state.generation;
    const have = this.served.get(ioc);
    if (have !== undefined && have.generation === generation) return have.slots;
    const table = this.state.table;
    const slots: ChannelSlot[] = [];
    for (const rec of ioc.records.values()) {
      for (const name of rec.channelNames()) {
        const slot = table.get(name);
        if (slot !== undefined && slot.win === rec) slots.push(slot);
      }
    }
    slots.sort((a, b) => table.index.compare(a.name, b.name));
    this.served.set(ioc, { generation, slots });
    return slots;
  }
}

// One scan's position between steps: in the IOC candidates (pos), or in range r at index i (-1: not entered yet).
class SteppedScan implements ScanCursor {
  matched = 0;
  restarts = 0;
  private eligible = 0;
  private p: Prepared | null = null;
  private generation = -1;
  private done = false;
  private pos = 0;
  private r = 0;
  private i = -1;

  constructor(private readonly prepare: () => Prepared, private readonly currentGeneration: () => number,
    private readonly q: ChannelQuery, private readonly size: number, private readonly wantTotal: boolean,
    private readonly page: ChannelSlot[]) {}

  step(budget: number): boolean {
    if (this.done) return true;
    let p = this.p;
    if (p === null || this.currentGeneration() !== this.generation) {
      if (p !== null) this.restarts++;
      this.generation = this.currentGeneration();
      p = this.p = this.prepare();
      this.matched = 0;
      this.eligible = 0;
      this.page.length = 0;
      this.pos = 0;
      this.r = 0;
      this.i = -1;
    }
    let left = this.restarts >= MAX_RESTARTS ? Infinity : budget;
    const pred = p.pred;
    if (pred === null) return this.finish();
    if (p.byIoc !== null) {
      const list = p.byIoc;
      const after = this.q.searchAfter;
      for (let pos = this.pos; pos < list.length; pos++) {
        if (left-- <= 0) {
          this.pos = pos;
          return false;
        }
        const slot = list[pos] as ChannelSlot;
        if (!this.visit(pred, slot, after === null || p.index.compare(slot.name, after) > 0)) break;
      }
      return this.finish();
    }
    const { arr, ranges, start } = p;
    for (let r = this.r; r < ranges.length; r++) {
      const [lo, hi] = ranges[r] as Range;
      let i = this.i < 0 ? (this.wantTotal ? lo : Math.max(lo, start)) : this.i;
      this.i = -1;
      for (; i < hi; i++) {
        if (left-- <= 0) {
          this.r = r;
          this.i = i;
          return false;
        }
        if (!this.visit(pred, arr[i] as ChannelSlot, i >= start)) return this.finish();
      }
    }
    return this.finish();
  }

  private finish(): true {
    this.done = true;
    this.p = null; // hold no index view
    return true;
  }

  // Returns false once the page is full and no total is wanted.
  private visit(pred: NonNullable<SlotPredicate>, slot: ChannelSlot, afterStart: boolean): boolean {
    if (!pred(slot)) return true;
    this.matched++;
    if (!afterStart) return true;
    this.eligible++;
    const page = this.page;
    if (this.eligible > this.q.from && page.length < this.size) page.push(slot);
    else if (!this.wantTotal && page.length >= this.size) return false;
    return true;
  }
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
