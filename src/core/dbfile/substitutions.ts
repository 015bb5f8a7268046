/**
 * Substitution files (`.substitutions`), as the IOC's dbLoadTemplate reads them (a port of EPICS Base 7.0.3.1's
 * dbLoadTemplate.y and its lexer): `file NAME { … }` blocks holding either one `pattern { A, B }` with value rows
 * or `{ A="x", B=y }` rows, `global { … }` definitions that hold until the end of the file, `#` comments. Each row
 * loads the template once, as dbLoadRecords(template, "<cmd>,<globals>,<row>"). At a syntax error the IOC stops
 * reading the file; the rows after it are parsed on (with recovery) only to report what the IOC leaves out.
 */
import type { Diagnostic } from '../model.js';
import { createContext, noteUnreadable, readLines, type LoadContext, type Origin } from './context.js';
import { loadDatabaseInto, type DatabaseOptions, type DatabaseResult } from './database.js';
import { DiagnosticSink } from './diagnostics.js';
import { resolveIn } from './search-path.js';

/** One instantiation: load `template` with `macros` (globals then row values, in dbLoadTemplate's string form). */
export interface TemplateInstance {
  readonly template: string;
  readonly macros: string;
  readonly line: number;
  readonly col: number;
}

/**
 * What a substitution file asks for, in order, and what was wrong with it. `instances` are the rows the IOC loads;
 * when it stops reading at a syntax error (`stoppedAt`), the rows found after it are in `unloaded`.
 */
export interface SubstitutionsResult {
  readonly instances: readonly TemplateInstance[];
  readonly diagnostics: readonly Diagnostic[];
  readonly unloaded: readonly TemplateInstance[];
  readonly stoppedAt: { readonly line: number; readonly col: number } | null;
}

interface SubToken {
  readonly kind: 'word' | 'quote' | 'kw' | '=' | ',' | '{' | '}' | 'eof';
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

// Bare-word characters of dbLoadTemplate's lexer: [a-zA-Z0-9_\-+:./\\\[\]<>;]
const BARE = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+:./\\[]<>;') BARE[c.charCodeAt(0)] = 1;
const KEYWORDS = new Set(['pattern', 'file', 'global']);

/** The lexer: a character it does not know is reported and skipped (the IOC reads on), as is an unclosed quote. */
function tokenize(text: string, file: string, diags: DiagnosticSink): SubToken[] {
  const out: SubToken[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    const code = text.charCodeAt(i);
    const col = i - lineStart + 1;
    if (c === '\n') { line++; lineStart = ++i; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' && j + 1 < text.length && text[j + 1] !== '\n' ? 2 : 1;
      if (j < text.length && text[j] === c) {
        out.push({ kind: 'quote', text: text.slice(i + 1, j), line, col });
        i = j + 1;
        continue;
      }
      diags.error(file, line, col, `newline in string: the closing quote is missing; the IOC skips the ${c} and reads on`);
      i++;
      continue;
    }
    if (c === '=' || c === ',' || c === '{' || c === '}') {
      out.push({ kind: c, text: c, line, col });
      i++;
      continue;
    }
    if (code < 128 && BARE[code] === 1) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) < 128 && BARE[text.charCodeAt(j)] === 1) j++;
      const word = text.slice(i, j);
      out.push({ kind: KEYWORDS.has(word) ? 'kw' : 'word', text: word, line, col });
      i = j;
      continue;
    }
    diags.error(file, line, col, `invalid character ${code < 32 ? `0x${code.toString(16).padStart(2, '0')}` : `'${c}'`}; the IOC skips it and reads on`);
    i++;
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return out;
}

/** Parse a substitution file (sans-I/O): the template instances in the order the IOC loads them. */
export function parseSubstitutions(text: string, file: string): SubstitutionsResult {
  const diags = new DiagnosticSink();
  const parser = new SubParser(tokenize(text, file, diags), file, diags);
  parser.run();
  return { instances: parser.loaded, unloaded: parser.unloaded, stoppedAt: parser.stop, diagnostics: diags.finish(file) };
}

const describe = (t: SubToken): string => (t.kind === 'eof' ? 'end of file' : t.kind === 'quote' ? `"${t.text}"` : `'${t.text}'`);

class SubParser {
  private pos = 0;
  private globals: string[] = [];
  private live = true;
  stop: { line: number; col: number } | null = null;
  readonly loaded: TemplateInstance[] = [];
  readonly unloaded: TemplateInstance[] = [];

  constructor(private readonly toks: readonly SubToken[], private readonly file: string,
    private readonly diags: DiagnosticSink) {}

  private peek(k = 0): SubToken {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)] ?? { kind: 'eof', text: '', line: 1, col: 1 };
  }

  private take(): SubToken {
    const t = this.peek();
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  /** A syntax error: the IOC stops reading the file here; rows after it are not loaded. */
  private fail(t: SubToken, msg: string): void {
    if (this.live) {
      this.live = false;
      this.stop = { line: t.line, col: t.col };
      this.diags.error(this.file, t.line, t.col, `${msg}; the IOC stops reading ${this.file} here`);
    } else {
      this.diags.error(this.file, t.line, t.col, msg);
    }
  }

  private isKw(t: SubToken, w: string): boolean {
    return t.kind === 'kw' && t.text === w;
  }

  run(): void {
    if (this.peek().kind === 'eof') {
      this.diags.warning(this.file, 1, 1, 'the substitution file holds no file or global block');
      return;
    }
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (this.isKw(t, 'global')) { this.take(); this.globalBlock(); continue; }
      if (this.isKw(t, 'file')) { this.take(); this.fileBlock(t); continue; }
      this.fail(t, `unexpected ${describe(t)}: expected 'file' or 'global'`);
      this.take();
      this.syncTop();
    }
  }

  /** Skip to the next `file`/`global` outside braces. */
  private syncTop(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (depth <= 0 && (this.isKw(t, 'file') || this.isKw(t, 'global'))) return;
      if (t.kind === '{') depth++;
      if (t.kind === '}') depth--;
      this.take();
    }
  }

  /** `{ A=x, B="y" }` → ['A=x', 'B="y"'], or null after a syntax error. */
  private definitions(): string[] | null {
    const open = this.peek();
    if (open.kind !== '{') {
      this.fail(open, `expected '{' but found ${describe(open)}`);
      return null;
    }
    this.take();
    const defs: string[] = [];
    for (;;) {
      const t = this.take();
      if (t.kind === '}') return defs;
      if (t.kind === ',') {
        if (defs.length === 0) this.fail(t, "unexpected ',' before the first definition");
        continue;
      }
      if (t.kind === 'eof') { this.fail(t, `missing '}': the block opened at line ${open.line} is not closed`); return null; }
      const eq = this.peek();
      const v = this.peek(1);
      if (t.kind === 'word' && eq.kind === '=' && (v.kind === 'word' || v.kind === 'quote')) {
        this.take();
        this.take();
        defs.push(v.kind === 'quote' ? `${t.text}="${v.text}"` : `${t.text}=${v.text}`);
        continue;
      }
      this.fail(t, `expected NAME=VALUE but found ${describe(t)}`);
      this.skipToClose();
      return null;
    }
  }

  /** After an error inside braces: skip to the closing `}` of this block. */
  private skipToClose(): void {
    let depth = 1;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      this.take();
      if (t.kind === '{') depth++;
      if (t.kind === '}' && --depth === 0) return;
    }
  }

  private globalBlock(): void {
    const defs = this.definitions();
    if (defs !== null) this.globals = [...this.globals, ...defs];
  }

  private fileBlock(kw: SubToken): void {
    const name = this.peek();
    if (name.kind !== 'word' && name.kind !== 'quote') {
      this.fail(name, `expected a template file name after 'file' but found ${describe(name)}`);
      this.syncTop();
      return;
    }
    this.take();
    const open = this.peek();
    if (open.kind !== '{') {
      this.fail(open, `expected '{' after the file name but found ${describe(open)}`);
      this.syncTop();
      return;
    }
    this.take();
    // the IOC's grammar: one `pattern` first, then its rows; or rows of definitions (globals may come between)
    let style: 'none' | 'pattern' | 'definitions' = 'none';
    let names: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === '}') { this.take(); return; }
      if (t.kind === 'eof') {
        this.fail(t, `missing '}': the block of file '${name.text}' (line ${kw.line}) is not closed`);
        return;
      }
      if (this.isKw(t, 'pattern')) {
        if (style !== 'none') {
          this.fail(t, style === 'pattern' ? `a second 'pattern' in the block of file '${name.text}'`
            : `'pattern' must come first in the block of file '${name.text}'`);
        }
        style = 'pattern';
        this.take();
        names = this.patternNames();
        continue;
      }
      if (this.isKw(t, 'global')) {
        if (style === 'none') style = 'definitions';
        this.take();
        this.globalBlock();
        continue;
      }
      if (this.isKw(t, 'file')) {
        this.fail(t, `missing '}' before 'file': the block of file '${name.text}' (line ${kw.line}) is not closed`);
        return;
      }
      let deprecated = false;
      if (t.kind === 'word' && this.peek(1).kind === '{') {
        this.diags.warning(this.file, t.line, t.col, `deprecated syntax: '${t.text}' before '{' is ignored`);
        this.take();
        deprecated = true;
      }
      const row = this.peek();
      if (row.kind === '{') {
        if (style === 'none') style = 'definitions';
        const defs = style === 'pattern' ? this.patternRow(names, deprecated) : this.definitionRow(deprecated);
        if (defs !== null) {
          const inst = { template: name.text, macros: [...this.globals, ...defs].join(','), line: row.line, col: row.col };
          (this.live ? this.loaded : this.unloaded).push(inst);
        }
        continue;
      }
      this.fail(t, `unexpected ${describe(t)} in the block of file '${name.text}'`);
      this.take();
    }
  }

  private definitionRow(deprecated: boolean): string[] | null {
    const open = this.peek();
    const defs = this.definitions();
    if (defs !== null && deprecated && defs.length === 0) this.fail(open, "an empty row after a name ('name {}') is a syntax error");
    return defs;
  }

  private patternNames(): string[] {
    const open = this.peek();
    if (open.kind !== '{') {
      this.fail(open, `expected '{' after pattern but found ${describe(open)}`);
      return [];
    }
    this.take();
    const names: string[] = [];
    for (;;) {
      const t = this.take();
      if (t.kind === '}') return names;
      if (t.kind === ',') {
        if (names.length === 0) this.fail(t, "unexpected ',' before the first pattern name");
        continue;
      }
      if (t.kind === 'word') { names.push(t.text); continue; }
      if (t.kind === 'eof') { this.fail(t, `missing '}': the pattern opened at line ${open.line} is not closed`); return names; }
      this.fail(t, `expected a macro name in the pattern but found ${describe(t)}`);
    }
  }

  private patternRow(names: readonly string[], deprecated: boolean): string[] | null {
    const open = this.take();
    const defs: string[] = [];
    let values = 0;
    let warned = false;
    for (;;) {
      const t = this.take();
      if (t.kind === '}') {
        if (deprecated && values === 0) this.fail(t, "an empty row after a name ('name {}') is a syntax error");
        return defs;
      }
      if (t.kind === ',') {
        if (values === 0) this.fail(t, "unexpected ',' before the first value of the row");
        continue;
      }
      if (t.kind === 'eof') { this.fail(t, `missing '}': the row opened at line ${open.line} is not closed`); return null; }
      if (t.kind !== 'word' && t.kind !== 'quote') {
        this.fail(t, `expected a value but found ${describe(t)}`);
        this.skipToClose();
        return null;
      }
      values++;
      const n = names[defs.length];
      if (n === undefined) {
        if (!warned) this.diags.warning(this.file, t.line, t.col, `too many values: the pattern names ${names.length}; extra values ignored`);
        warned = true;
        continue;
      }
      defs.push(t.kind === 'quote' ? `${n}="${t.text}"` : `${n}=${t.text}`);
    }
  }
}

/** Load a substitution file into the shared context, as dbLoadTemplate(path, macros). */
export function loadTemplateInto(ctx: LoadContext, path: string, macros: string, origin: Origin): void {
  const full = resolveIn(ctx.cwd, path);
  const lines = readLines(ctx, full);
  if (lines === null) {
    const message = `cannot open substitution file '${path}' (tried ${full})`;
    ctx.diags.error(origin.file, origin.line, origin.col, message);
    noteUnreadable(ctx, path, [full], origin, message);
    return;
  }
  const parsed = parseSubstitutions(lines.join('\n'), full);
  for (const d of parsed.diagnostics) ctx.diags.add(d.severity, d.file, d.line, d.col, d.message);
  const withCommand = (inst: TemplateInstance): string =>
    macros.trim() === '' ? inst.macros : inst.macros === '' ? macros : `${macros},${inst.macros}`;
  // the templates' records are reached through the substitution file
  ctx.via.push(full);
  try {
    for (const inst of parsed.instances) {
      loadDatabaseInto(ctx, inst.template, withCommand(inst), { file: full, line: inst.line, col: inst.col });
    }
  } finally {
    ctx.via.pop();
  }
  const stop = parsed.stoppedAt;
  if (stop === null) return;
  for (const inst of parsed.unloaded) {
    const found = loadDatabaseInto(ctx, inst.template, withCommand(inst), { file: full, line: inst.line, col: inst.col },
      { stoppedAt: { file: full, line: stop.line, col: stop.col, stopped: full } });
    if (!found) {
      ctx.diags.warning(full, inst.line, inst.col, `this row of '${inst.template}' is not loaded: the IOC stops reading ${full
      } at the error at ${stop.line}:${stop.col} (and the template cannot be opened)`);
    }
  }
}

/** Load a substitution file with macros on a fresh IOC, as `dbLoadTemplate(path, macros)`. */
export function loadTemplate(path: string, macros: string, opts: DatabaseOptions): DatabaseResult {
  const ctx = createContext(opts.files, opts.env ?? {}, opts.cwd ?? '.');
  loadTemplateInto(ctx, path, macros, { file: path, line: 1, col: 1 });
  return { records: ctx.records.toRecords(), diagnostics: ctx.diags.finish(path) };
}
