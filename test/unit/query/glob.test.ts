import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../../src/core/query/glob.js';

describe('compileGlob', () => {
  const cases: [pattern: string, value: string, matches: boolean][] = [
    ['SR:C01*', 'SR:C01:BPM1', true],
    ['SR:C01*', 'sr:c01:bpm1', true],
    ['sr:c01*', 'SR:C01:BPM1', true],
    ['SR:C01*', 'XSR:C01', false],
    ['*BPM*', 'SR:C01:BPM1:X', true],
    ['*bpm', 'SR:C01:BPM', true],
    ['*bpm', 'SR:C01:BPM1', false],
    ['SR?C01', 'SR:C01', true],
    ['SR?C01', 'SR::C01', false],
    ['SR?C01', 'SRC01', false],
    ['A*B*C', 'AxxBxxC', true],
    ['A*B*C', 'AxxCxxB', false],
    ['exact', 'EXACT', true],
    ['exact', 'exactly', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a\\?b', 'a?b', true],
    ['a\\?b', 'axb', false],
    ['a\\\\b', 'a\\b', true],
    ['trailing\\', 'trailing\\', true],
    ['{P}<x>', '{p}<X>', true],
    ['a.b', 'axb', false],
    ['a+(b)[c]^$|', 'A+(B)[C]^$|', true],
    ['', '', true],
    ['', 'x', false],
    ['*', '', true],
    ['**', 'anything', true],
    ['multi\nline', 'MULTI\nLINE', true],
    ['?', '\n', true],
  ];
  it.each(cases)('%j vs %j → %s', (pattern, value, matches) => {
    expect(compileGlob(pattern).test(value)).toBe(matches);
  });

  it.each([
    ['SR:C01*', 'SR:C01', false, false],
    ['a\\*b*', 'a*b', false, false],
    ['exact', 'exact', true, false],
    ['*x', '', false, false],
    ['?x', '', false, false],
    ['*', '', false, true],
    ['***', '', false, true],
  ])('%j has prefix %j, exact %s, matchAll %s', (pattern, prefix, exact, matchAll) => {
    const g = compileGlob(pattern);
    expect([g.prefix, g.exact, g.matchAll]).toEqual([prefix, exact, matchAll]);
  });
});
