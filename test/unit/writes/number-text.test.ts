import { describe, expect, it } from 'vitest';
import { hasNumber, numbersAsText } from '../../../src/core/writes/number-text.js';

// A deterministic generator (no Math.random: a failure must reproduce).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('numbersAsText', () => {
  it.each([
    ['{"v":1.50}', '{"v":"1.50"}'],
    ['[1e-05, -0, 1733050000.123000, 12345678901234567890]', '["1e-05", "-0", "1733050000.123000", "12345678901234567890"]'],
    ['{"a":"1.50","b":-2E+3}', '{"a":"1.50","b":"-2E+3"}'],
    ['"x\\"1.5\\\\" ', '"x\\"1.5\\\\" '],
    ['{"k\\\\":[true,false,null,0]}', '{"k\\\\":[true,false,null,"0"]}'],
    ['{"1":2}', '{"1":"2"}'],
    ['  7  ', '  "7"  '],
  ])('%s → %s', (input, output) => {
    expect(numbersAsText(input)).toBe(output);
  });

  it('returns the very same text when there is no number', () => {
    const s = '{"name":"SR:C01:1.5","value":"2e3","t":[true,null]}';
    expect(numbersAsText(s)).toBe(s);
  });

  // The fuzz: random JSON documents whose numbers are written in every JSON form (leading minus, fractions with
  // trailing zeros, exponents with sign and case), with random whitespace and strings full of escapes, quotes,
  // digits and backslashes. JSON.parse of the result must equal the document with each number as its text.
  const rnd = lcg(50);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const ws = (): string => (rnd() < 0.7 ? '' : pick([' ', '\n', '\t', '\r\n ', '  ']));
  const digits = (min: number): string => Array.from({ length: min + Math.floor(rnd() * 4) }, () => pick('0123456789'.split(''))).join('');
  const numberText = (): string => {
    const int = rnd() < 0.3 ? '0' : pick('123456789'.split('')) + digits(0);
    const frac = rnd() < 0.5 ? '' : '.' + digits(1) + (rnd() < 0.3 ? '00' : '');
    const exp = rnd() < 0.6 ? '' : pick(['e', 'E']) + pick(['', '+', '-']) + digits(1);
    return (rnd() < 0.3 ? '-' : '') + int + frac + exp;
  };
  const stringText = (): string => '"' + Array.from({ length: Math.floor(rnd() * 6) },
    () => pick(['a', '1', '.', '-', 'e', '\\"', '\\\\', '\\n', '\\u0031', ':', ',', '[', '{', ' ', 'é'])).join('') + '"';
  // [text, the value with numbers as their text]
  const gen = (depth: number): [string, unknown] => {
    const r = rnd();
    if (depth > 3 || r < 0.35) {
      const kind = pick(['num', 'num', 'str', 'true', 'false', 'null']);
      if (kind === 'num') {
        const t = numberText();
        return [t, t];
      }
      if (kind === 'str') {
        const t = stringText();
        return [t, JSON.parse(t)];
      }
      return [kind, JSON.parse(kind)];
    }
    const items = Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    if (r < 0.65) return ['[' + items.map(([t]) => ws() + t + ws()).join(',') + ']', items.map(([, v]) => v)];
    const obj: Record<string, unknown> = {};
    const parts: string[] = [];
    for (const [t, v] of items) {
      const k = stringText();
      obj[JSON.parse(k) as string] = v;
      parts.push(ws() + k + ws() + ':' + ws() + t + ws());
    }
    return ['{' + parts.join(',') + '}', obj];
  };

  it('fuzz: 5 000 random documents parse to their numbers\' exact text', () => {
    const wrong: string[] = [];
    let numbers = 0;
    for (let k = 0; k < 5_000; k++) {
      const [text, want] = gen(0);
      const doc = ws() + text + ws();
      JSON.parse(doc); // the generator writes valid JSON only
      if (hasNumber(JSON.parse(doc))) numbers++;
      let got: unknown;
      try {
        got = JSON.parse(numbersAsText(doc));
      } catch {
        got = 'INVALID';
      }
      if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(doc);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(numbers).toBeGreaterThan(1_000); // most documents hold numbers
  });

  it('fuzz: every number form JSON.parse accepts keeps its value (Number of the text) and only numbers change', () => {
    for (let k = 0; k < 2_000; k++) {
      const t = numberText();
      const parsed = JSON.parse(`[${t}]`) as number[];
      const text = JSON.parse(numbersAsText(`[${t}]`)) as string[];
      expect(text).toEqual([t]);
      expect(Number(text[0])).toBe(parsed[0]);
    }
  });

  it('quotes each of 20 000 numbers in a large body, and nothing else', () => {
    const body = JSON.stringify(Array.from({ length: 20_000 }, (_, i) => ({ name: `PV:${i}`, value: i / 8 })));
    const out = numbersAsText(body);
    const parsed = JSON.parse(out) as { value: string }[];
    expect(parsed[3]?.value).toBe('0.375');
    expect(out.length).toBe(body.length + 2 * 20_000);
  });
});

describe('hasNumber', () => {
  it.each([
    [{ a: ['x', { b: 1 }] }, true], [{ a: ['x', { b: '1' }] }, false], [[true, null, 'x'], false], [0, true], ['1', false],
  ])('%j → %s', (v, want) => {
    expect(hasNumber(v)).toBe(want);
  });

  it('walks deep nesting without recursion', () => {
    const deep = JSON.parse('['.repeat(100_000) + '1' + ']'.repeat(100_000)) as unknown;
    expect(hasNumber(deep)).toBe(true);
  });
});
