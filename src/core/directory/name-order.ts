/**
 * The order of channel names: byte order of their UTF-8 encoding, which is code-point order. JavaScript's `<`
 * compares UTF-16 units, which agrees except between surrogates (U+D800–DFFF) and U+E000–FFFF; `unitRank` fixes that.
 */

/** Rank of one UTF-16 unit such that comparing ranks unit by unit gives code-point order. */
export function unitRank(u: number): number {
  if (u < 0xd800) return u;
  if (u <= 0xdfff) return u + 0x2000; // surrogates encode code points above U+FFFF: after U+E000–FFFF
  return u - 0x800;
}

/** True when `s` holds a unit where `<` and code-point order may disagree. */
export function hasHighUnits(s: string): boolean {
  return HIGH.test(s);
}
const HIGH = /[\ud800-\uffff]/;

/** Compare two names in code-point (UTF-8 byte) order. */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitRank(x) - unitRank(y);
  }
  return a.length - b.length;
}

/** Compare with `<` only: exact when neither name has a high unit (hasHighUnits). */
export function compareNamesFast(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
