import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../../src/core/utf8-length.js';

describe('utf8Length', () => {
  it.each([
    ['', 0], ['abc', 3], ['é', 2], ['\u07ff', 2], ['\u0800', 3], ['€', 3], ['\uffff', 3], ['😀', 4],
    ['\ud800', 3], ['\udc00', 3], ['\udc00\ud800', 6], ['a\ud83d', 4], ['LINAC:BPM1:X😀é', 18],
  ])('%j is %i bytes, as Buffer counts', (s, n) => {
    expect(utf8Length(s)).toBe(n);
    expect(Buffer.byteLength(s)).toBe(n);
  });

  it('agrees with Buffer.byteLength on random strings of every kind of unit', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff];
    for (let i = 0; i < 2000; i++) {
      const s = String.fromCharCode(...Array.from({ length: next() % 12 }, () => units[next() % units.length] as number));
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
    }
  });
});
