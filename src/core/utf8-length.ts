/** The byte length of a string's UTF-8 encoding, without encoding it (and without Node's Buffer in the pure core). */

/** Bytes of the UTF-8 encoding of `s`; a lone surrogate counts 3 bytes, as encoders write U+FFFD in its place. */
export function utf8Length(s: string): number {
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
