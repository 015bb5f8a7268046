/** The byte length of a string's UTF-8 encoding, without encoding it (and without Node's Buffer in the pure core). */

// eslint-disable-next-line no-control-regex -- every code unit above 0x7f
const NON_ASCII = /[^\u0000-\u007f]/;

/** Bytes of the UTF-8 encoding of `s`; a lone surrogate counts 3 bytes, as encoders write U+FFFD in its place. */
export function utf8Length(s: string): number {
  // Most strings are ASCII (keys, record JSON): the engine's regex scan is several times faster than the loop below.
  if (!NON_ASCII.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a pair: two units, four bytes
      i++;
    } else n += 2;
  }
  return n;
}
