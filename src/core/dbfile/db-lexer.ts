/**
 * The tokenizer of database files, a port of EPICS Base 7.0's dbLex.l. Like the IOC it reads one line at a time
 * and expands macros over the whole line before tokenizing it; columns are mapped back to the line as written.
 * It has the IOC's two modes: the normal one, and the JSON mode in which field and info values are read. A
 * character the IOC's lexer refuses is handed to `onInvalid` and skipped, as flex does. Files named by `include`
 * are pushed on a stack and read to their end before the including file continues.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { MacroTable, OffsetMap } from './macros.js';

/**
 * A token: `word` (bare), `string` (quoted; raw text between the quotes), `number` (JSON mode), `punct` (one
 * character), `cdef` (a `%` line of a recordtype) or `eof`. `frame` identifies the file reading it came from.
 */
export interface Token {
  readonly kind: 'word' | 'string' | 'number' | 'punct' | 'cdef' | 'eof';
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly frame: number;
}

/** Called for a character the IOC's lexer refuses (`at` marks it); the IOC stops reading after that line. */
export type InvalidHandler = (at: Token, message: string) => void;

interface Frame {
  readonly id: number;
  readonly path: string;
  readonly lines: readonly string[];
  lineIdx: number; // index of the line in `text` (0-based)
  text: string;
  pos: number;
  map: OffsetMap | null;
}

// Bare-word characters of the IOC's database lexer: [a-zA-Z0-9_\-+:.\[\]<>;]
const BARE = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+:.[]<>;') BARE[c.charCodeAt(0)] = 1;
// Bare characters in JSON mode: [a-zA-Z0-9_\-+.]
const JSON_BARE = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+.') JSON_BARE[c.charCodeAt(0)] = 1;
// Escapes a JSON string may hold: \" \\ \/ \b \f \n \r \t (and \uXXXX)
const JSON_ESCAPES = '"\\/bfnrt';

/** The IOC's white space: [ \t\r\n] only (a vertical tab or form feed is an invalid character). */
const isSpaceCode = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHexCode = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

/** Length of the JSON number at `p` (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` as dbLex.l), 0 if none. */
function numberLength(t: string, p: number): number {
  let q = p;
  if (t.charCodeAt(q) === 45 /* - */) q++;
  if (!isDigit(t.charCodeAt(q))) return 0;
  if (t.charCodeAt(q) === 48) q++;
  else while (isDigit(t.charCodeAt(q))) q++;
  if (t.charCodeAt(q) === 46 /* . */ && isDigit(t.charCodeAt(q + 1))) {
    q += 2;
    while (isDigit(t.charCodeAt(q))) q++;
  }
  const e = t.charCodeAt(q);
  if (e === 101 || e === 69) {
    let r = q + 1;
    const s = t.charCodeAt(r);
    if (s === 43 || s === 45) r++;
    if (isDigit(t.charCodeAt(r))) {
      while (isDigit(t.charCodeAt(r))) r++;
      q = r;
    }
  }
  return q - p;
}

/** Deepest include nesting accepted (the IOC has no limit and would exhaust its file handles). */
const MAX_INCLUDE_DEPTH = 32;

/** A pull tokenizer over a stack of files. */
export class DbLexer {
  private readonly stack: Frame[] = [];
  private nextFrameId = 1;
  private abortFrame = 0;
  private abortLine = 0;
  private lastFrame: Frame | null = null;
  private lastLine = 0;
  private lastPos = 0;
  private lastMap: OffsetMap | null = null;
  private resume: { frame: number; lineIdx: number; pos: number } | null = null;
  /** Where refused characters go (set by the parser). */
  onInvalid: InvalidHandler = () => undefined;

  /** `macros` null: the file is read as written (dbLoadRecords without a macro argument does not expand). */
  constructor(private readonly macros: MacroTable | null, private readonly diags: DiagnosticSink) {}

  /** Depth of the include stack (1 while reading the top file). */
  get depth(): number { return this.stack.length; }

  /** The files being read, the including ones first and the current one last. */
  files(): string[] { return this.stack.map((f) => f.path); }

  /** True when `path` is being read (an include of it would be a cycle). */
  reading(path: string): boolean { return this.stack.some((f) => f.path === path); }

  /** True when another include would exceed the depth limit. */
  get full(): boolean { return this.stack.length >= MAX_INCLUDE_DEPTH; }

  /** Start reading `lines` of `path`; its tokens come before the rest of the current file. */
  push(path: string, lines: readonly string[]): void {
    this.stack.push({ id: this.nextFrameId++, path, lines, lineIdx: -1, text: '', pos: 0, map: null });
  }

  /**
   * The IOC stops reading after the line holding `at` (yyerrorAbort: its input ends once that line is used up).
   * Only the first call counts.
   */
  abortAfter(at: Token): void {
    if (this.abortFrame !== 0) return;
    this.abortFrame = at.frame;
    this.abortLine = at.line;
  }

  /** True when the IOC still reads `t`: no abort yet, or `t` is on the line of the abort. */
  isLive(t: Token): boolean {
    return this.abortFrame === 0 || (t.frame === this.abortFrame && t.line === this.abortLine);
  }

  /** The next token in the normal mode. */
  next(): Token {
    return this.scan(false);
  }

  /** The next token in JSON mode (field and info values). */
  nextJson(): Token {
    return this.scan(true);
  }

  private loadLine(f: Frame): boolean {
    f.lineIdx++;
    if (f.lineIdx >= f.lines.length) return false;
    const raw = f.lines[f.lineIdx] ?? '';
    f.pos = 0;
    if (this.macros === null) {
      f.text = raw;
      f.map = null;
      return true;
    }
    const x = this.macros.expand(raw);
    for (const p of x.problems) {
      const msg = p.kind === 'undefined' ? `macro '${p.name}' is undefined; the IOC keeps the text '$(${p.name},undefined)'`
        : p.kind === 'recursive' ? `macro '${p.name}' is defined in terms of itself; the IOC keeps '$(${p.name},recursive)'`
          : 'macro expansion is too long; the line is cut short';
      this.diags.warning(f.path, f.lineIdx + 1, p.offset + 1, msg);
    }
    f.text = x.text;
    f.map = x.map;
    return true;
  }

  /** Skip blanks and comments, refilling lines and popping finished files; null at the end of all input. */
  private skipSpace(): Frame | null {
    for (;;) {
      const f = this.stack[this.stack.length - 1];
      if (f === undefined) return null;
      const t = f.text;
      let p = f.pos;
      while (p < t.length && isSpaceCode(t.charCodeAt(p))) p++;
      f.pos = p;
      if (p < t.length && t.charCodeAt(p) !== 35 /* # */) return f;
      if (!this.loadLine(f)) this.stack.pop();
    }
  }

  private tok(f: Frame, kind: Token['kind'], text: string, at: number): Token {
    const col = (f.map === null ? at : f.map.toSource(at)) + 1;
    // the end of input is reported just after the last token
    this.lastFrame = f;
    this.lastLine = f.lineIdx;
    this.lastPos = f.pos;
    this.lastMap = f.map;
    return { kind, text, file: f.path, line: f.lineIdx + 1, col, frame: f.id };
  }

  private invalid(f: Frame, at: number, message: string): void {
    this.onInvalid(this.tok(f, 'punct', f.text[at] ?? '', at), message);
  }

  private scan(json: boolean): Token {
    for (;;) {
      const f = this.skipSpace();
      if (f === null) {
        const last = this.lastFrame;
        if (last === null) return { kind: 'eof', text: '', file: '', line: 1, col: 1, frame: 0 };
        const col = this.lastMap === null ? this.lastPos : this.lastMap.toSource(this.lastPos);
        return { kind: 'eof', text: '', file: last.path, line: this.lastLine + 1, col: col + 1, frame: last.id };
      }
      const t = f.text;
      const start = f.pos;
      const code = t.charCodeAt(start);
      if (code === 34 /* " */) {
        const tk = json ? this.jsonString(f) : this.quoted(f);
        if (tk !== null) return tk;
        continue;
      }
      if (code === 123 || code === 125 || code === 44 /* { } , */ || (!json && (code === 40 || code === 41))
        || (json && (code === 58 || code === 91 || code === 93) /* : [ ] */)) {
        f.pos++;
        return this.tok(f, 'punct', t[start] ?? '', start);
      }
      if (!json && code === 37 /* % */) {
        // a C definition line of a recordtype (.dbd files): one token to the end of the line
        f.pos = t.length;
        return this.tok(f, 'cdef', t.slice(start + 1), start);
      }
      const table = json ? JSON_BARE : BARE;
      let p = start;
      while (p < t.length) {
        const c = t.charCodeAt(p);
        if (c < 128 && table[c] === 1) p++;
        else break;
      }
      if (p > start) {
        if (json) {
          // flex takes the longest match; on a tie the number rule (listed first) wins
          const n = numberLength(t, start);
          if (n > 0 && n >= p - start) {
            f.pos = start + n;
            return this.tok(f, 'number', t.slice(start, start + n), start);
          }
        }
        f.pos = p;
        return this.tok(f, 'word', t.slice(start, p), start);
      }
      f.pos++;
      const c = t[start] ?? '';
      this.invalid(f, start, `invalid character ${code < 32 || code === 127 ? `0x${code.toString(16).padStart(2, '0')}` : `'${c}'`}`);
    }
  }

  /** A quoted string of the normal mode: any escape is allowed and kept as written; it must close on its line. */
  private quoted(f: Frame): Token | null {
    const t = f.text;
    const start = f.pos;
    let p = start + 1;
    while (p < t.length) {
      const code = t.charCodeAt(p);
      if (code === 34 /* " */) break;
      if (code === 92 /* \ */ && p + 1 < t.length) p++;
      p++;
    }
    if (p >= t.length) {
      // "Newline in string, closing quote missing": flex takes the rest of the line with it
      f.pos = t.length;
      this.invalid(f, start, 'newline in string: the closing quote is missing');
      return null;
    }
    f.pos = p + 1;
    return this.tok(f, 'string', t.slice(start + 1, p), start);
  }

  /** A JSON string (field and info values); anything else starting with `"` is an invalid character. */
  private jsonString(f: Frame): Token | null {
    const t = f.text;
    const start = f.pos;
    let p = start + 1;
    let problem = '';
    while (p < t.length) {
      const code = t.charCodeAt(p);
      if (code === 34) break;
      if (code === 92) {
        const e = t[p + 1] ?? '';
        if (e !== '' && JSON_ESCAPES.includes(e)) { p += 2; continue; }
        if (e === 'u' && isHexCode(t.charCodeAt(p + 2)) && isHexCode(t.charCodeAt(p + 3)) && isHexCode(t.charCodeAt(p + 4))
          && isHexCode(t.charCodeAt(p + 5))) { p += 6; continue; }
        problem = e === '' ? 'a backslash ends the line' : `'\\${e}' is not a JSON string escape (only \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX are)`;
        break;
      }
      if (code < 32) {
        problem = `control character 0x${code.toString(16).padStart(2, '0')}${code === 9 ? ' (a tab: write \\t)' : ''} inside the quotes`;
        break;
      }
      p++;
    }
    if (problem === '' && p < t.length) {
      f.pos = p + 1;
      return this.tok(f, 'string', t.slice(start + 1, p), start);
    }
    if (problem === '') problem = 'newline in string: the closing quote is missing';
    let close = start + 1;
    while (close < t.length && t.charCodeAt(close) !== 34) close += t.charCodeAt(close) === 92 ? 2 : 1;
    const where = f.map === null ? p : f.map.toSource(p);
    const message = `quoted value is not a JSON string (as EPICS 7 reads field and info values): ${problem}, at column ${where + 1}`;
    if (this.abortFrame !== 0 && !(f.id === this.abortFrame && f.lineIdx + 1 === this.abortLine)) {
      // the IOC has stopped reading: take the string as a person reads it, to find what follows
      this.invalid(f, start, message);
      f.pos = Math.min(close + 1, t.length);
      return close < t.length ? this.tok(f, 'string', t.slice(start + 1, close), start) : null;
    }
    // flex refuses the opening quote alone and reads on from the next character
    f.pos = start + 1;
    if (close < t.length) this.resume = { frame: f.id, lineIdx: f.lineIdx, pos: close + 1 };
    this.invalid(f, start, message);
    return null;
  }

  /**
   * After the IOC's parser has given up inside a broken quoted value (read character by character, as flex does),
   * skip to the end of that value so that error recovery starts after it. True when it moved.
   */
  skipBrokenString(): boolean {
    const r = this.resume;
    const f = this.stack[this.stack.length - 1];
    this.resume = null;
    if (r === null || f === undefined || f.id !== r.frame || f.lineIdx !== r.lineIdx || f.pos >= r.pos) return false;
    f.pos = r.pos;
    return true;
  }
}
