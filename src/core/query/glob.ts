/**
 * ChannelFinder glob patterns: `*` any run of characters, `?` exactly one, `\` escapes the next character; matched
 * case-insensitively against the whole value (as Elasticsearch's case-insensitive wildcard query does).
 * Matching never backtracks over the pattern: the parts between stars are found in order, each at its leftmost
 * place, so a test costs at most (value + 1) × (pattern + 2) steps whatever the input (patterns come from
 * anonymous requests).
 */

/** A compiled glob: how to test a value, and what the directory can use to narrow a sorted scan. */
export interface Glob {
  /** The pattern as written (after trimming). */
  readonly pattern: string;
  /** The unescaped literal text before the first wildcard (the whole value when there is no wildcard). */
  readonly prefix: string;
  /** True when the pattern has no wildcard: it matches exactly `prefix`, case-insensitively. */
  readonly exact: boolean;
  /** True when the pattern is only stars: every value matches. */
  readonly matchAll: boolean;
  /** Whether `value` matches the whole pattern, case-insensitively. */
  test(value: string): boolean;
  /** As test, and also how many steps the match took (bounded by (value.length + 1) × (units + 2)). */
  explain(value: string): { readonly matched: boolean; readonly steps: number };
  /** Length of the compiled pattern in units (a literal UTF-16 unit, `?`, or a run of `*`). */
  readonly units: number;
}

// Compiled pattern units: a folded UTF-16 unit (≥ 0), or one of these.
const STAR = -1;
const ONE = -2;

/** Compile one pattern. Never throws: every string is a valid glob (a trailing lone `\` is a literal backslash). */
export function compileGlob(pattern: string): Glob {
  const units = compile(pattern);
  const firstWild = units.findIndex((u) => u < 0);
  const exact = firstWild === -1;
  const prefix = literalPrefix(pattern);
  const matchAll = units.length > 0 && units.every((u) => u === STAR);
  if (matchAll) {
    return {
      pattern, prefix: '', exact: false, matchAll: true, units: units.length,
      test: () => true, explain: () => ({ matched: true, steps: 0 }),
    };
  }
  const counter = { steps: 0 };
  const run = matcher(units);
  return {
    pattern, prefix, exact, matchAll: false, units: units.length,
    test: (value: string) => run(value, counter),
    explain: (value: string) => {
      const c = { steps: 0 };
      const matched = run(value, c);
      return { matched, steps: c.steps };
    },
  };
}

/**
 * Case folding of one UTF-16 unit, exactly as a non-unicode `/i` RegExp compares units (ECMA-262 Canonicalize):
 * the unit's upper case when that is a single unit, except that a non-ASCII unit never folds onto an ASCII one
 * (so `ſ` does not match `s`, nor `K` (Kelvin) `k`). Two units match iff their folds are equal.
 */
export function foldUnit(c: number): number {
  if (c < 128) return c >= 97 && c <= 122 ? c - 32 : c;
  let f = FOLD[c] as number;
  if (f === 0) {
    const u = String.fromCharCode(c).toUpperCase();
    f = u.length === 1 && u.charCodeAt(0) >= 128 ? u.charCodeAt(0) : c;
    FOLD[c] = f;
  }
  return f;
}
// Lazily filled: 0 = not computed yet (unit 0 is ASCII, never looked up here).
const FOLD = new Uint16Array(0x10000);

function compile(pattern: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 0x5c /* \ */) {
      out.push(foldUnit(i + 1 < pattern.length ? pattern.charCodeAt(i + 1) : c));
      i++;
    } else if (c === 0x2a /* * */) {
      if (out.at(-1) !== STAR) out.push(STAR);
    } else if (c === 0x3f /* ? */) {
      out.push(ONE);
    } else {
      out.push(foldUnit(c));
    }
  }
  return out;
}

function literalPrefix(pattern: string): string {
  let prefix = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' || c === '?') break;
    if (c === '\\') {
      prefix += pattern[i + 1] ?? '\\';
      i++;
    } else {
      prefix += c;
    }
  }
  return prefix;
}

// The units before the first star and after the last match at fixed places: checked first, in one pass each.
// Between them the pattern is `* S1 * S2 * … * Sk *`, each segment Si a fixed-length run of literals and `?`:
// the value matches iff each segment, in order, is found at its leftmost place after the previous one (a leftmost
// place leaves the most room to the rest; the last star takes whatever is left). A search tries each start once
// and compares at most the segment's length there: O(value × pattern) in all, never more. Common patterns take
// fast paths: `X*` and `X*Y` are only their fixed parts, and a segment that starts with an ASCII unit skips to the
// places holding that unit with a scan that compares two units and folds nothing.
function matcher(p: readonly number[]): (value: string, counter: { steps: number }) => boolean {
  const m = p.length;
  let head = 0;
  while (head < m && p[head] !== STAR) head++;
  let tail = m;
  while (tail > head && p[tail - 1] !== STAR) tail--;
  const tailLength = m - tail;
  const units = Int32Array.from(p);
  const { segments, slots } = segmentsOf(p, head, tail);
  // Where each ASCII unit that starts a segment occurs next (see findAll); the matcher runs to completion, so one
  // scratch array per compiled glob is enough.
  const next = new Int32Array(slots);
  return (value, counter) => {
    const n = value.length;
    counter.steps = 1;
    if (head === m ? n !== m : n < head + tailLength) return false;
    counter.steps += head + tailLength;
    if (!fixed(units, 0, head, value, 0) || !fixed(units, tail, m, value, n - tailLength)) return false;
    if (head === m || segments.length === 0) return true;
    for (let i = 0; i < next.length; i++) next[i] = -2;
    return findAll(segments, value, head, n - tailLength, next, counter);
  };
}

// One segment between stars: its units and, when its first unit is ASCII, the units of the value that match it
// (upper and lower case of a letter; a non-ASCII unit never folds onto an ASCII one, so no other unit can), each
// with its slot in the matcher's table of next places (one slot per distinct unit, shared by segments).
interface Segment {
  readonly units: Int32Array;
  readonly first: string | null;
  readonly firstSlot: number;
  readonly lower: string | null;
  readonly lowerSlot: number;
}

// p[from] and p[to - 1] are stars (from < to).
function segmentsOf(p: readonly number[], from: number, to: number): { segments: Segment[]; slots: number } {
  const out: Segment[] = [];
  const slotOf = new Map<string, number>();
  const slot = (c: string | null): number => {
    if (c === null) return -1;
    const have = slotOf.get(c);
    if (have !== undefined) return have;
    slotOf.set(c, slotOf.size);
    return slotOf.size - 1;
  };
  let i = from;
  while (i < to) {
    while (i < to && p[i] === STAR) i++;
    const start = i;
    while (i < to && p[i] !== STAR) i++;
    if (i === start) continue;
    const units = Int32Array.from(p.slice(start, i));
    const u0 = units[0] as number;
    const ascii = u0 >= 0 && u0 < 128;
    const first = ascii ? String.fromCharCode(u0) : null;
    const lower = ascii && u0 >= 65 && u0 <= 90 ? String.fromCharCode(u0 + 32) : null;
    out.push({ units, first, firstSlot: slot(first), lower, lowerSlot: slot(lower) });
  }
  return { segments: out, slots: slotOf.size };
}

function fixed(p: Int32Array, from: number, to: number, value: string, at: number): boolean {
  for (let i = from; i < to; i++) {
    const u = p[i] as number;
    if (u !== ONE && u !== foldUnit(value.charCodeAt(at + i - from))) return false;
  }
  return true;
}

// Each segment at its leftmost place within value[from, to), in order. Steps: one per segment (its star), one
// per start tried or unit passed over by indexOf, one per unit compared after the first. `next[slot]`: the next
// place holding that slot's unit at or after some earlier start (-2 not looked for yet, -1 none); starts only
// grow, so it is looked for again only once passed: indexOf walks the value at most once per slot (≤ 128).
function findAll(segments: readonly Segment[], value: string, from: number, to: number, next: Int32Array,
  counter: { steps: number }): boolean {
  const n = value.length;
  let v = from;
  let steps = 0;
  let found = true;
  for (let k = 0; k < segments.length && found; k++) {
    const seg = segments[k] as Segment;
    const u = seg.units;
    const len = u.length;
    const last = to - len;
    const first = seg.first;
    const lower = seg.lower;
    steps++;
    found = false;
    for (let s = v; s <= last; s++) {
      if (first !== null) {
        let atFirst = next[seg.firstSlot] as number;
        if (atFirst !== -1 && atFirst < s) {
          atFirst = value.indexOf(first, s);
          next[seg.firstSlot] = atFirst;
          steps += (atFirst < 0 ? n : atFirst) - s + 1;
        }
        let atLower = lower === null ? -1 : next[seg.lowerSlot] as number;
        if (lower !== null && atLower !== -1 && atLower < s) {
          atLower = value.indexOf(lower, s);
          next[seg.lowerSlot] = atLower;
          steps += (atLower < 0 ? n : atLower) - s + 1;
        }
        const at = atFirst < 0 ? atLower : atLower < 0 ? atFirst : Math.min(atFirst, atLower);
        if (at < 0 || at > last) break;
        s = at;
      } else {
        steps++;
        const u0 = u[0] as number;
        if (u0 !== ONE && u0 !== foldUnit(value.charCodeAt(s))) continue;
      }
      let i = 1;
      while (i < len) {
        const w = u[i] as number;
        if (w !== ONE && w !== foldUnit(value.charCodeAt(s + i))) break;
        i++;
      }
      steps += i - 1 + (i < len ? 1 : 0);
      if (i === len) {
        v = s + len;
        found = true;
        break;
      }
    }
  }
  counter.steps += steps;
  return found;
}
