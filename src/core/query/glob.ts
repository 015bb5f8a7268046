/**
 * ChannelFinder glob patterns: `*` any run of characters, `?` exactly one, `\` escapes the next character; matched
 * case-insensitively against the whole value (as Elasticsearch's case-insensitive wildcard query does).
 * Matching never backtracks over the pattern: the greedy two-pointer algorithm retries only from the last `*`,
 * so a test costs at most (value + 1) × (pattern + 2) steps whatever the input (patterns come from anonymous
 * requests).
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
// Between them, a greedy match with one resumption point: on a mismatch, the last `*` takes one more unit and
// matching resumes after it. Earlier stars never need revisiting (whatever they could absorb, the last one can),
// so each of the value.length + 1 resumptions walks the pattern at most once: O(value × pattern), never more.
function matcher(p: readonly number[]): (value: string, counter: { steps: number }) => boolean {
  const m = p.length;
  let head = 0;
  while (head < m && p[head] !== STAR) head++;
  let tail = m;
  while (tail > head && p[tail - 1] !== STAR) tail--;
  const tailLength = m - tail;
  return (value, counter) => {
    const n = value.length;
    counter.steps = 1;
    if (head === m ? n !== m : n < head + tailLength) return false;
    counter.steps += head + tailLength;
    if (!fixed(p, 0, head, value, 0) || !fixed(p, tail, m, value, n - tailLength)) return false;
    return head === m || middle(p, head, tail, value, head, n - tailLength, counter);
  };
}

function fixed(p: readonly number[], from: number, to: number, value: string, at: number): boolean {
  for (let i = from; i < to; i++) {
    const u = p[i] as number;
    if (u !== ONE && u !== foldUnit(value.charCodeAt(at + i - from))) return false;
  }
  return true;
}

// p[from] and p[to - 1] are stars.
function middle(p: readonly number[], from: number, to: number, value: string, vFrom: number, vTo: number,
  counter: { steps: number }): boolean {
  let pi = from;
  let vi = vFrom;
  let starP = -1;
  let starV = 0;
  let steps = 0;
  for (;;) {
    steps++;
    if (vi < vTo) {
      const u = pi < to ? (p[pi] as number) : ONE - 1;
      if (u === ONE || (u >= 0 && u === foldUnit(value.charCodeAt(vi)))) {
        pi++;
        vi++;
        continue;
      }
      if (u === STAR) {
        starP = pi++;
        starV = vi;
        continue;
      }
      if (starP >= 0) {
        pi = starP + 1;
        vi = ++starV;
        continue;
      }
      counter.steps += steps;
      return false;
    }
    while (pi < to && p[pi] === STAR) pi++;
    counter.steps += steps;
    return pi === to;
  }
}
