/**
 * The tokenizer of database files. Like the IOC it reads one line at a time and expands macros over the whole line
 * before tokenizing it, so a macro may produce any text; columns are mapped back to the line as written. Files
 * named by `include` are pushed on a stack and read to their end before the including file continues.
 */
import type { DiagnosticSink } from './diagnostics.js';
import type { MacroTable, OffsetMap } from './macros.js';

/** A token: `word` (bare), `string` (quoted; raw text between the quotes), `punct` (one character) or `eof`. */
export interface Token {
  readonly kind: 'word' | 'string' | 'punct' | 'eof';
  readonly text: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

interface Frame {
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
// Bare characters inside JSON values: [a-zA-Z0-9_\-+.]
const JSON_BARE = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+.') JSON_BARE[c.charCodeAt(0)] = 1;

const isSpaceCode = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10 || c === 11 || c === 12;

/** Deepest include nesting accepted (the IOC has no limit and would exhaust its file handles). */
const MAX_INCLUDE_DEPTH = 32;

/** A pull tokenizer over a stack of files. */
export class DbLexer {
  private readonly stack: Frame[] = [];

  constructor(private readonly macros: MacroTable, private readonly diags: DiagnosticSink) {}

  /** Depth of the include stack (1 while reading the top file). */
  get depth(): number { return this.stack.length; }

  /** True when `path` is being read (an include of it would be a cycle). */
  reading(path: string): boolean { return this.stack.some((f) => f.path === path); }

  /** True when another include would exceed the depth limit. */
  get full(): boolean { return this.stack.length >= MAX_INCLUDE_DEPTH; }

  /** Start reading `lines` of `path`; its tokens come before the rest of the current file. */
  push(path: string, lines: readonly string[]): void {
    this.stack.push({ path, lines, lineIdx: -1, text: '', pos: 0, map: null });
  }

  /** The next token outside JSON values. */
  next(): Token {
    return this.scan(false);
  }

  /** The next token inside a JSON value (`:` `[` `]` are punctuation there). */
  nextJson(): Token {
    return this.scan(true);
  }

  /** The next significant character without consuming it ('' at the end of input). */
  peekChar(): string {
    const f = this.skipSpace();
    return f === null ? '' : f.text[f.pos] ?? '';
  }

  private loadLine(f: Frame): boolean {
    f.lineIdx++;
    if (f.lineIdx >= f.lines.length) return false;
    const raw = f.lines[f.lineIdx] ?? '';
    const x = this.macros.expand(raw, { comment: '#' });
    for (const p of x.problems) {
      const msg = p.kind === 'undefined' ? `macro '${p.name}' is undefined; the IOC keeps the text '$(${p.name},undefined)'`
        : p.kind === 'recursive' ? `macro '${p.name}' is defined in terms of itself; the IOC keeps '$(${p.name},recursive)'`
          : 'macro expansion is too long; the line is cut short';
      this.diags.warning(f.path, f.lineIdx + 1, p.offset + 1, msg);
    }
    f.text = x.text;
    f.map = x.map;
    f.pos = 0;
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
    return { kind, text, file: f.path, line: f.lineIdx + 1, col };
  }

  private scan(json: boolean): Token {
    for (;;) {
      const f = this.skipSpace();
      if (f === null) {
        const last = this.lastFrame;
        if (last === null) return { kind: 'eof', text: '', file: '', line: 1, col: 1 };
        const col = this.lastMap === null ? this.lastPos : this.lastMap.toSource(this.lastPos);
        return { kind: 'eof', text: '', file: last.path, line: this.lastLine + 1, col: col + 1 };
      }
      const t = f.text;
      const start = f.pos;
      const c = t[start] ?? '';
      if (c === '"') return this.quoted(f);
      if (c === '%') {
        // a C definition line of a recordtype (.dbd files): one token to the end of the line
        f.pos = t.length;
        return this.tok(f, 'punct', '%', start);
      }
      if (c === '{' || c === '}' || c === '(' || c === ')' || c === ',') {
        f.pos++;
        return this.tok(f, 'punct', c, start);
      }
      if (json && (c === ':' || c === '[' || c === ']')) {
        f.pos++;
        return this.tok(f, 'punct', c, start);
      }
      const table = json ? JSON_BARE : BARE;
      let p = start;
      while (p < t.length) {
        const code = t.charCodeAt(p);
        if (code < 128 && table[code] === 1) { p++; continue; }
        // text left by an undefined macro, $(NAME,undefined): kept inside the word so the parser can name it
        if (code === 36 /* $ */ && (t[p + 1] === '(' || t[p + 1] === '{')) {
          const close = t[p + 1] === '(' ? ')' : '}';
          const end = t.indexOf(close, p + 2);
          p = end < 0 ? t.length : end + 1;
          continue;
        }
        break;
      }
      if (p > start) {
        f.pos = p;
        return this.tok(f, 'word', t.slice(start, p), start);
      }
      f.pos++;
      const shown = c.charCodeAt(0) < 32 ? `0x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `'${c}'`;
      const at = this.tok(f, 'punct', c, start);
      this.diags.error(at.file, at.line, at.col, `invalid character ${shown}`);
    }
  }

  private lastFrame: Frame | null = null;
  private lastLine = 0;
  private lastPos = 0;
  private lastMap: OffsetMap | null = null;

  private quoted(f: Frame): Token {
    const t = f.text;
    const start = f.pos;
    let p = start + 1;
    while (p < t.length) {
      const code = t.charCodeAt(p);
      if (code === 34 /* " */) break;
      if (code === 92 /* \ */ && p + 1 < t.length) p++;
      p++;
    }
    f.pos = p >= t.length ? t.length : p + 1;
    const tok = this.tok(f, 'string', t.slice(start + 1, Math.min(p, t.length)), start);
    if (p >= t.length) this.diags.error(tok.file, tok.line, tok.col, 'newline in string: the closing quote is missing');
    return tok;
  }
}
