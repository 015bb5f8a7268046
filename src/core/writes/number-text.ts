/**
 * Numbers exactly as sent. ChannelFinder (Jackson's StringDeserializer takes the token's text) stores a JSON number
 * sent for a string field as the client wrote it: `1.50` stays "1.50", `1e-05` stays "1e-05". JSON.parse keeps
 * only the value, so the HTTP parser quotes every number token before parsing a write body.
 */

/**
 * For valid JSON text: the same text with every number token outside strings turned into a string token of its
 * exact text (`{"v":1.50}` → `{"v":"1.50"}`); everything else is copied as is. One pass, linear in the text.
 * Meant for text JSON.parse has accepted: on invalid JSON the result is unspecified (parse the original for the
 * error).
 */
export function numbersAsText(json: string): string {
  const n = json.length;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < n) {
    const c = json.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < n) {
        const d = json.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      // Outside strings in valid JSON, a run of these units is exactly one number token.
      const start = i;
      while (i < n && isNumberUnit(json.charCodeAt(i))) i++;
      out += json.slice(copied, start) + '"' + json.slice(start, i) + '"';
      copied = i;
    } else {
      i++;
    }
  }
  return copied === 0 ? json : out + json.slice(copied);
}

function isNumberUnit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65;
}

/** Whether a parsed JSON value holds a number anywhere (iterative: nesting depth costs no stack). */
export function hasNumber(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') return true;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
  return false;
}
