/**
 * C escape translation of quoted field and info values, as EPICS Base's epicsStrnRawFromEscaped: `\n \t \\ \" \xHH`
 * and friends; an unknown escape keeps the character without its backslash; `\0` ends the string.
 */
const SIMPLE: Readonly<Record<string, string>> = {
  a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"',
};

const isHex = (c: string | undefined): c is string => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** Translate the escapes of a quoted value (quotes already removed). */
export function translateEscapes(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c !== '\\') { out += c; continue; }
    const e = s[++i];
    if (e === undefined || e === '0') return out;
    const simple = SIMPLE[e];
    if (simple !== undefined) { out += simple; continue; }
    if (e === 'x') {
      let hex = '';
      while (hex.length < 2 && isHex(s[i + 1])) hex += s[++i];
      if (hex === '') continue; // "\x" without a hex digit is dropped, as the C code does
      const code = parseInt(hex, 16);
      if (code === 0) return out;
      out += String.fromCharCode(code);
      continue;
    }
    out += e;
  }
  return out;
}
