/**
 * Substitution files (`.substitutions`), as the IOC's dbLoadTemplate reads them: `file NAME { … }` blocks with
 * `pattern { A, B } { "x", "y" }` rows or `{ A="x", B=y }` rows, `global { … }` definitions that hold until the end
 * of the file, `#` comments. Each row loads the template once, as dbLoadRecords(template, "<cmd>,<globals>,<row>").
 */
import type { Diagnostic } from '../model.js';
import { createContext, readLines, type LoadContext, type Origin } from './context.js';
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

/** What a substitution file asks for, in order, and what was wrong with it. */
export interface SubstitutionsResult {
  readonly instances: readonly TemplateInstance[];
  readonly diagnostics: readonly Diagnostic[];
}

interface SubToken {
  readonly kind: 'word' | 'quote' | '=' | ',' | '{' | '}' | 'eof';
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

// Bare-word characters of dbLoadTemplate's lexer: [a-zA-Z0-9_\-+:./\\\[\]<>;]
const BARE = /[a-zA-Z0-9_\-+:./\\[\]<>;]/;

function tokenize(text: string, file: string, diags: DiagnosticSink): SubToken[] {
  const out: SubToken[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    const col = i - lineStart + 1;
    if (c === '\n') { line++; lineStart = ++i; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' && text[j + 1] !== '\n' ? 2 : 1;
      if (j >= text.length || text[j] !== c) {
        diags.error(file, line, col, 'newline in string: the closing quote is missing');
        out.push({ kind: 'quote', text: text.slice(i + 1, j), line, col });
        i = j;
        continue;
      }
      out.push({ kind: 'quote', text: text.slice(i + 1, j), line, col });
      i = j + 1;
      continue;
    }
    if (c === '=' || c === ',' || c === '{' || c === '}') {
      out.push({ kind: c, text: c, line, col });
      i++;
      continue;
    }
    if (BARE.test(c)) {
      let j = i + 1;
      while (j < text.length && BARE.test(text[j] ?? '')) j++;
      out.push({ kind: 'word', text: text.slice(i, j), line, col });
      i = j;
      continue;
    }
    diags.error(file, line, col, `invalid character '${c}'`);
    i++;
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return out;
}

/** Parse a substitution file (sans-I/O): the template instances in the order the IOC loads them. */
export function parseSubstitutions(text: string, file: string): SubstitutionsResult {
  const diags = new DiagnosticSink();
  const instances: TemplateInstance[] = [];
  new SubParser(tokenize(text, file, diags), file, diags, instances).run();
  return { instances, diagnostics: diags.finish(file) };
}

const describe = (t: SubToken): string => (t.kind === 'eof' ? 'end of file' : t.kind === 'quote' ? `"${t.text}"` : `'${t.text}'`);

class SubParser {
  private pos = 0;
  private globals: string[] = [];

  constructor(private readonly toks: readonly SubToken[], private readonly file: string,
    private readonly diags: DiagnosticSink, private readonly out: TemplateInstance[]) {}

  private peek(k = 0): SubToken {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)] ?? { kind: 'eof', text: '', line: 1, col: 1 };
  }

  private take(): SubToken {
    const t = this.peek();
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  private error(t: SubToken, msg: string): void {
    this.diags.error(this.file, t.line, t.col, msg);
  }

  private isWord(t: SubToken, w: string): boolean {
    return t.kind === 'word' && t.text === w;
  }

  run(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return;
      if (this.isWord(t, 'global')) { this.take(); this.globalBlock(); continue; }
      if (this.isWord(t, 'file')) { this.take(); this.fileBlock(t); continue; }
      this.error(t, `unexpected ${describe(t)}: expected 'file' or 'global'`);
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
      if (depth <= 0 && (this.isWord(t, 'file') || this.isWord(t, 'global'))) return;
      if (t.kind === '{') depth++;
      if (t.kind === '}') depth--;
      this.take();
    }
  }

  /** `{ A=x, B="y" }` → ['A=x', 'B="y"'], or null after reporting an error. */
  private definitions(): string[] | null {
    const open = this.peek();
    if (open.kind !== '{') {
      this.error(open, `expected '{' but found ${describe(open)}`);
      return null;
    }
    this.take();
    const defs: string[] = [];
    for (;;) {
      const t = this.take();
      if (t.kind === '}') return defs;
      if (t.kind === ',') continue;
      if (t.kind === 'eof') { this.error(open, "missing '}': this block is not closed"); return null; }
      const eq = this.peek();
      const v = this.peek(1);
      if (t.kind === 'word' && eq.kind === '=' && (v.kind === 'word' || v.kind === 'quote')) {
        this.take();
        this.take();
        defs.push(v.kind === 'quote' ? `${t.text}="${v.text}"` : `${t.text}=${v.text}`);
        continue;
      }
      this.error(t, `expected NAME=VALUE but found ${describe(t)}`);
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
      this.error(name, `expected a template file name after 'file' but found ${describe(name)}`);
      this.syncTop();
      return;
    }
    this.take();
    const open = this.peek();
    if (open.kind !== '{') {
      this.error(open, `expected '{' after the file name but found ${describe(open)}`);
      this.syncTop();
      return;
    }
    this.take();
    let names: string[] | null = null;
    for (;;) {
      const t = this.peek();
      if (t.kind === '}') { this.take(); return; }
      if (t.kind === 'eof') {
        this.error(open, `missing '}': the block of file '${name.text}' (line ${kw.line}) is not closed`);
        return;
      }
      if (this.isWord(t, 'pattern')) { this.take(); names = this.patternNames(); continue; }
      if (this.isWord(t, 'global')) { this.take(); this.globalBlock(); continue; }
      if (this.isWord(t, 'file')) {
        this.error(t, `missing '}' before 'file': the block of file '${name.text}' (line ${kw.line}) is not closed`);
        return;
      }
      if (t.kind === 'word' && this.peek(1).kind === '{') {
        this.diags.warning(this.file, t.line, t.col, `deprecated syntax: '${t.text}' before '{' is ignored`);
        this.take();
        continue;
      }
      if (t.kind === '{') {
        const row = names === null ? this.definitions() : this.patternRow(names);
        if (row !== null) {
          this.out.push({ template: name.text, macros: [...this.globals, ...row].join(','), line: t.line, col: t.col });
        }
        continue;
      }
      this.error(t, `unexpected ${describe(t)} in the block of file '${name.text}'`);
      this.take();
    }
  }

  private patternNames(): string[] {
    const open = this.peek();
    if (open.kind !== '{') {
      this.error(open, `expected '{' after pattern but found ${describe(open)}`);
      return [];
    }
    this.take();
    const names: string[] = [];
    for (;;) {
      const t = this.take();
      if (t.kind === '}') return names;
      if (t.kind === ',') continue;
      if (t.kind === 'word') { names.push(t.text); continue; }
      if (t.kind === 'eof') { this.error(open, "missing '}': the pattern is not closed"); return names; }
      this.error(t, `expected a macro name in the pattern but found ${describe(t)}`);
    }
  }

  private patternRow(names: readonly string[]): string[] | null {
    const open = this.take();
    const defs: string[] = [];
    let warned = false;
    for (;;) {
      const t = this.take();
      if (t.kind === '}') return defs;
      if (t.kind === ',') continue;
      if (t.kind === 'eof') { this.error(open, "missing '}': this row is not closed"); return null; }
      if (t.kind !== 'word' && t.kind !== 'quote') {
        this.error(t, `expected a value but found ${describe(t)}`);
        this.skipToClose();
        return null;
      }
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
    ctx.diags.error(origin.file, origin.line, origin.col, `cannot open substitution file '${path}' (tried ${full})`);
    return;
  }
  const parsed = parseSubstitutions(lines.join('\n'), full);
  for (const d of parsed.diagnostics) ctx.diags.add(d.severity, d.file, d.line, d.col, d.message);
  for (const inst of parsed.instances) {
    const all = macros.trim() === '' ? inst.macros : inst.macros === '' ? macros : `${macros},${inst.macros}`;
    loadDatabaseInto(ctx, inst.template, all, { file: full, line: inst.line, col: inst.col });
  }
}

/** Load a substitution file with macros on a fresh IOC, as `dbLoadTemplate(path, macros)`. */
export function loadTemplate(path: string, macros: string, opts: DatabaseOptions): DatabaseResult {
  const ctx = createContext(opts.files, opts.env ?? {}, opts.cwd ?? '.');
  loadTemplateInto(ctx, path, macros, { file: path, line: 1, col: 1 });
  return { records: ctx.records.toRecords(), diagnostics: ctx.diags.finish(path) };
}
