/**
 * Turns a ChannelQuery into a predicate over channel slots. Property names are resolved against the catalogue
 * once per query; value tests are memoized per distinct value, since most values (host, IOC, type) repeat.
 */
import type { ChannelQuery, PropertyTerm, ValueTest } from '../query/channel-query.js';
import type { Glob } from '../query/glob.js';
import type { ChannelSlot } from './nodes.js';
import type { PropertySource } from './properties.js';

/** A compiled query: `null` when no channel can match (an impossible term), else a predicate. */
export type SlotPredicate = ((slot: ChannelSlot) => boolean) | null;

/** The tags of a channel (none yet: tags arrive with issue 4). */
export type TagSource = (slot: ChannelSlot) => readonly string[];

const NO_TAGS: TagSource = () => [];

// Memo tables stop growing here: beyond it values are mostly unique (descriptions) and memoizing only costs memory.
const MEMO_MAX = 50_000;

/** Compile every filter of `q` (names, tags, properties); paging is the caller's business. */
export function compileMatcher(
  q: ChannelQuery,
  catalogue: readonly PropertySource[],
  tagsOf: TagSource = NO_TAGS,
): SlotPredicate {
  const tests: ((slot: ChannelSlot) => boolean)[] = [];
  for (const term of q.names) {
    if (term.anyOf.length === 0) return null;
    if (term.anyOf.some((g) => g.matchAll)) continue;
    const globs = term.anyOf;
    tests.push((s) => anyMatch(globs, s.name));
  }
  for (const term of q.tags) {
    const globs = term.anyOf;
    const has = (s: ChannelSlot): boolean => tagsOf(s).some((t) => anyMatch(globs, t));
    tests.push(term.negated ? (s) => !has(s) : has);
  }
  for (const term of q.properties) {
    const t = compilePropertyTerm(term, catalogue);
    if (t === null) return null;
    if (t !== true) tests.push(t);
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as (slot: ChannelSlot) => boolean;
  return (s) => {
    for (const t of tests) if (!t(s)) return false;
    return true;
  };
}

function anyMatch(globs: readonly Glob[], value: string): boolean {
  for (const g of globs) if (g.test(value)) return true;
  return false;
}

// `true`: every channel satisfies the term; `null`: none does.
function compilePropertyTerm(
  term: PropertyTerm,
  catalogue: readonly PropertySource[],
): ((slot: ChannelSlot) => boolean) | true | null {
  const sources = catalogue.filter((p) => term.name.test(p.name));
  const alts: ((slot: ChannelSlot) => boolean)[] = [];
  for (const alt of term.anyOf) {
    if (sources.length === 0) {
      if (alt.kind === 'lacks') return true;
      continue; // "has" over no property: never true
    }
    alts.push(alt.kind === 'lacks' ? lacks(sources) : has(sources, alt));
  }
  if (alts.length === 0) return null;
  if (alts.length === 1) return alts[0] as (slot: ChannelSlot) => boolean;
  return (s) => {
    for (const a of alts) if (a(s)) return true;
    return false;
  };
}

function lacks(sources: readonly PropertySource[]): (slot: ChannelSlot) => boolean {
  return (s) => {
    for (const p of sources) if (p.get(s) !== undefined) return false;
    return true;
  };
}

function has(sources: readonly PropertySource[], alt: ValueTest & { kind: 'has' }): (slot: ChannelSlot) => boolean {
  const { value, negated } = alt;
  if (value.matchAll) {
    // `p=*`: has the property; `p!=**`: has it with a value that matches nothing, i.e. never.
    if (negated) return () => false;
    return (s) => {
      for (const p of sources) if (p.get(s) !== undefined) return true;
      return false;
    };
  }
  const memo = new Map<string, boolean>();
  const ok = (v: string): boolean => {
    let r = memo.get(v);
    if (r === undefined) {
      r = value.test(v) !== negated;
      if (memo.size < MEMO_MAX) memo.set(v, r);
    }
    return r;
  };
  if (sources.length === 1) {
    const get = (sources[0] as PropertySource).get;
    return (s) => {
      const v = get(s);
      return v !== undefined && ok(v);
    };
  }
  return (s) => {
    for (const p of sources) {
      const v = p.get(s);
      if (v !== undefined && ok(v)) return true;
    }
    return false;
  };
}
