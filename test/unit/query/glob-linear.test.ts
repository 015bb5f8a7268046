import { describe, expect, it } from 'vitest';
import { compileGlob, foldUnit } from '../../../src/core/query/glob.js';

// The former implementation (a backtracking RegExp), kept here only as the reference of the semantics.
function referenceGlob(pattern: string): (value: string) => boolean {
  let src = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      src += (pattern[i + 1] ?? '\\').replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
      i++;
    } else if (c === '*') src += '[\\s\\S]*';
    else if (c === '?') src += '[\\s\\S]';
    else src += c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  const re = new RegExp(src + '$', 'i');
  return (v) => re.test(v);
}

// A deterministic generator (no Math.random: a failure must reproduce).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('glob matching: the same answers as the former RegExp', () => {
  // Letters whose case folding is tricky under a non-unicode /i RegExp, wildcards, escapes, surrogate halves.
  const alphabet = ['a', 'A', 'b', 's', 'S', 'ſ', 'ß', 'k', 'K', '\u212a', 'é', 'É', 'i', 'I', 'İ', 'ı', 'ÿ', 'Ÿ',
    'σ', 'Σ', 'ς', 'µ', 'Μ', '\n', ':', '.', '\ud83d', '\ude00', '0'];
  const patternAlphabet = [...alphabet, '*', '*', '?', '\\'];
  const rnd = lcg(8);
  const pick = (xs: readonly string[]): string => xs[Math.floor(rnd() * xs.length)] as string;

  it('agrees on 20 000 random pattern/value pairs over tricky characters', () => {
    let matches = 0;
    const wrong: string[] = [];
    for (let k = 0; k < 20_000; k++) {
      const pattern = Array.from({ length: Math.floor(rnd() * 7) }, () => pick(patternAlphabet)).join('');
      const value = Array.from({ length: Math.floor(rnd() * 8) }, () => pick(alphabet)).join('');
      const want = referenceGlob(pattern)(value);
      if (want) matches++;
      if (compileGlob(pattern).test(value) !== want) wrong.push(`${JSON.stringify(pattern)} vs ${JSON.stringify(value)}`);
    }
    expect(wrong).toEqual([]);
    expect(matches).toBeGreaterThan(300); // the sample exercises matches, not only mismatches
  });

  it('agrees on values derived from the pattern (so that most of them match)', () => {
    const wrong: string[] = [];
    for (let k = 0; k < 5_000; k++) {
      const pattern = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => pick(patternAlphabet)).join('');
      let value = '';
      for (const c of pattern) {
        if (c === '*') value += Array.from({ length: Math.floor(rnd() * 3) }, () => pick(alphabet)).join('');
        else if (c === '?') value += pick(alphabet);
        else value += rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase();
      }
      if (compileGlob(pattern).test(value) !== referenceGlob(pattern)(value)) wrong.push(`${JSON.stringify(pattern)} vs ${JSON.stringify(value)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('folds every UTF-16 unit exactly as a non-unicode /i RegExp compares it', () => {
    const classes = new Map<number, number[]>();
    for (let c = 0; c < 0x10000; c++) {
      const f = foldUnit(c);
      const list = classes.get(f);
      if (list === undefined) classes.set(f, [c]);
      else list.push(c);
    }
    const hex = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');
    const wrong: string[] = [];
    let compared = 0;
    for (let c = 0; c < 0x10000; c++) {
      const re = new RegExp(`^${hex(c)}$`, 'i');
      const ch = String.fromCharCode(c);
      const candidates = new Set(classes.get(foldUnit(c)));
      for (const other of [ch.toUpperCase(), ch.toLowerCase()]) if (other.length === 1) candidates.add(other.charCodeAt(0));
      for (const d of candidates) {
        compared++;
        if (re.test(String.fromCharCode(d)) !== (foldUnit(d) === foldUnit(c))) wrong.push(`${hex(c)} ~ ${hex(d)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(compared).toBeGreaterThan(0x10000 + 2000); // case pairs were compared, not only each unit with itself
  });
});

describe('glob matching: linear work on hostile patterns', () => {
  // The bound the matcher promises: (value + 1) × (pattern units + 2) steps.
  const bound = (units: number, n: number): number => (n + 1) * (units + 2);

  // `least`: steps the case must take at least, so that the star-matching loop is really exercised (a pattern
  // ending in a literal fails at once on its fixed tail).
  const A = 'A'.repeat(10_000);
  const cases: [what: string, pattern: string, value: string, matches: boolean, least: number][] = [
    ['20 `?*` pairs + Q against 10 000 A (fails on its tail)', '?*'.repeat(20) + 'Q', A, false, 1],
    ['the issue\'s query against 60 A', '?*?*?*?*?*?*?*?*Q', 'A'.repeat(60), false, 1],
    ['20 `?*` pairs + Q + `*` against 10 000 A', '?*'.repeat(20) + 'Q*', A, false, 10_000],
    ['a star, 20 `?*` pairs, Q?* against 10 000 A', '*' + '?*'.repeat(20) + 'Q?*', A, false, 10_000],
    ['200 a then b between stars (the worst case: each start walks the run)', '*' + 'a'.repeat(200) + 'b*', A, false, 1_900_000],
    ['100 ? then B between stars', '*' + '?'.repeat(100) + 'B*', A, false, 900_000],
    ['30 `*A` + B* against 10 000 A', '*A'.repeat(30) + 'B*', A, false, 10_000],
    ['30 `*A` + B against 10 000 A then B', '*A'.repeat(30) + 'B', A + 'B', true, 30],
    ['stars and ? alternating against a near miss', '*?'.repeat(50) + '*x*y', 'xy'.repeat(5_000), true, 100],
    ['many stars, matching', '*a*b*c*d*e*f*g*h*i*j*', 'abcdefghij'.repeat(1_000), true, 10],
  ];
  it.each(cases)('%s: answer right, steps ≤ (value+1)·(pattern+2)', (_what, pattern, value, matches, least) => {
    const g = compileGlob(pattern);
    const r = g.explain(value);
    expect(r.matched).toBe(matches);
    expect(g.test(value)).toBe(matches);
    expect(r.steps).toBeLessThanOrEqual(bound(g.units, value.length));
    expect(r.steps).toBeGreaterThanOrEqual(least);
  });

  it('a literal pattern costs at most one pass over the value', () => {
    const g = compileGlob('SR:C01:BPM1');
    expect(g.explain('SR:C01:BPM1').steps).toBeLessThanOrEqual(12);
    expect(g.explain('SR:C02:BPM1').steps).toBeLessThanOrEqual(12);
  });

  it('work grows linearly with the value: 10× the value, about 10× the steps (not 100×)', () => {
    const g = compileGlob('*' + 'a'.repeat(50) + 'b*');
    const small = g.explain('A'.repeat(1_000)).steps;
    const large = g.explain('A'.repeat(10_000)).steps;
    expect(small).toBeGreaterThan(1_000);
    expect(large).toBeLessThanOrEqual(11 * small);
  });
});
