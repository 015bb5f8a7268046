/**
 * Parsing of macro definition strings such as `"P=X:, R = Y"`, as EPICS Base's macParseDefns does: white space
 * around names and values is trimmed, quotes and escapes are honoured (and removed from names only), a name
 * without `=` means "undefine".
 */

/** One definition: `value` null means the macro is to be undefined (a name given without `=`). */
export interface MacroDefinition {
  readonly name: string;
  readonly value: string | null;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

function trimEnd(s: string, start: number, end: number): number {
  let e = end;
  while (e > start && isSpace(s[e - 1] ?? '')) e--;
  return e;
}

function unquoteName(raw: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? '';
    if (quote !== '') {
      if (c === quote) { quote = ''; continue; }
    } else if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if (c === '\\' && i + 1 < raw.length) {
      out += raw[++i] ?? '';
      continue;
    }
    out += c;
  }
  return out;
}

/** Split `a=xxx,b=yyy` into definitions in order; values keep their quotes and escapes (macro expansion drops them). */
export function parseMacroDefinitions(defns: string): MacroDefinition[] {
  type State = 'preName' | 'inName' | 'preValue' | 'inValue';
  const spans: Array<[number, number, boolean]> = []; // [start, end, deleted] alternating name, value
  let state: State = 'preName';
  let quote = '';
  let start = 0;
  for (let i = 0; i < defns.length; i++) {
    const c = defns[i] ?? '';
    if (quote !== '') { if (c === quote) quote = ''; } else if (c === "'" || c === '"') quote = c;
    const escape = c === '\\' && i + 1 < defns.length;
    // The C state machine falls through between states on the same character; a loop models that.
    for (;;) {
      if (state === 'preName') {
        if (quote === '' && !escape && (isSpace(c) || c === ',')) break;
        start = i;
        state = 'inName';
        continue;
      }
      if (state === 'inName') {
        if (quote !== '' || escape || (c !== '=' && c !== ',')) break;
        spans.push([start, trimEnd(defns, start, i), false]);
        state = 'preValue';
        if (c !== ',') break;
        // ',' right after a name: an empty value that deletes the macro
        spans.push([i, i, true]);
        state = 'preName';
        break;
      }
      if (state === 'preValue') {
        if (quote === '' && !escape && isSpace(c)) break;
        start = i;
        state = 'inValue';
        continue;
      }
      // inValue
      if (quote !== '' || escape || c !== ',') break;
      spans.push([start, trimEnd(defns, start, i), false]);
      state = 'preName';
      break;
    }
    if (escape) i++;
  }
  const len = defns.length;
  if (state === 'inName') {
    spans.push([start, trimEnd(defns, start, len), false]);
    spans.push([len, len, true]);
  } else if (state === 'preValue') {
    spans.push([len, len, false]);
  } else if (state === 'inValue') {
    spans.push([start, trimEnd(defns, start, len), false]);
  }
  const out: MacroDefinition[] = [];
  for (let k = 0; k + 1 < spans.length; k += 2) {
    const n = spans[k];
    const v = spans[k + 1];
    if (n === undefined || v === undefined) break;
    out.push({ name: unquoteName(defns.slice(n[0], n[1])), value: v[2] ? null : defns.slice(v[0], v[1]) });
  }
  return out;
}
