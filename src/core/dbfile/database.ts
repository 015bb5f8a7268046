/**
 * Loading one database file (`.db`, `.template`, `.vdb`) with macros, as the IOC's dbLoadRecords does: records,
 * fields, info tags, aliases, `include`/`path`/`addpath`, .dbd-only blocks skipped. Unlike the IOC, a syntax error
 * does not end the file: the parser reports it, resynchronises at the next record and keeps every good record.
 */
import type { Diagnostic, IocRecord } from '../model.js';
import { createContext, expandEnv, readLines, type LoadContext, type Origin } from './context.js';
import { DbLexer, type Token } from './db-lexer.js';
import { translateEscapes } from './escapes.js';
import type { FileSource } from './file-source.js';
import { parseMacroDefinitions } from './macro-defs.js';
import { MacroTable } from './macros.js';
import { checkRecordName, type MutableRecord } from './record-set.js';
import { candidates, splitSearchPath } from './search-path.js';

/** Options of loadDatabase: where files come from, the environment (for EPICS_DB_INCLUDE_PATH) and the directory. */
export interface DatabaseOptions {
  readonly files: FileSource;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** What loading one database produced. */
export interface DatabaseResult {
  readonly records: readonly IocRecord[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Load one database file with macros `"P=X:,R=Y"`, as `dbLoadRecords(path, macros)` would on a fresh IOC. */
export function loadDatabase(path: string, macros: string, opts: DatabaseOptions): DatabaseResult {
  const ctx = createContext(opts.files, opts.env ?? {}, opts.cwd ?? '.');
  loadDatabaseInto(ctx, path, macros, { file: path, line: 1, col: 1 });
  return { records: ctx.records.toRecords(), diagnostics: ctx.diags.finish(path) };
}

/** Find a file as dbOpenFile does (env macros expanded, then the search path); reports at `origin` when it fails. */
export function openDbFile(ctx: LoadContext, name: string, searchPath: readonly string[], origin: Origin,
  what: string): { path: string; lines: readonly string[] } | null {
  const x = expandEnv(ctx, name);
  if (x.undefinedNames.length > 0) {
    ctx.diags.error(origin.file, origin.line, origin.col,
      `cannot open ${what} '${name}': environment variable '${x.undefinedNames[0] ?? ''}' is undefined`);
    return null;
  }
  if (x.text === '') {
    ctx.diags.error(origin.file, origin.line, origin.col, `cannot open ${what}: the file name is empty`);
    return null;
  }
  // a template loaded once per substitution row is looked up once
  const key = `${ctx.cwd}\0${searchPath.join('\0')}\0${x.text}`;
  const known = ctx.found.get(key);
  if (known !== undefined) {
    const lines = readLines(ctx, known);
    if (lines !== null) return { path: known, lines };
  }
  const tried = candidates(x.text, searchPath, ctx.cwd);
  for (const path of tried) {
    const lines = readLines(ctx, path);
    if (lines !== null) {
      ctx.found.set(key, path);
      return { path, lines };
    }
  }
  ctx.diags.error(origin.file, origin.line, origin.col, `cannot open ${what} '${x.text}' (tried ${tried.join(', ')})`);
  return null;
}

/** The search path of a load: EPICS_DB_INCLUDE_PATH from the IOC's environment, else `.`. */
export function dbSearchPath(ctx: LoadContext): string[] {
  const env = ctx.env.get('EPICS_DB_INCLUDE_PATH');
  return env === undefined || env.trim() === '' ? ['.'] : splitSearchPath(env);
}

/** Load a database file into the shared context (used by dbLoadRecords and each row of dbLoadTemplate). */
export function loadDatabaseInto(ctx: LoadContext, path: string, macros: string, origin: Origin): void {
  const searchPath = dbSearchPath(ctx);
  const found = openDbFile(ctx, path, searchPath, origin, 'database file');
  if (found === null) return;
  const table = new MacroTable();
  table.defineAll(parseMacroDefinitions(macros));
  const lexer = new DbLexer(table, ctx.diags);
  lexer.push(found.path, found.lines);
  new DbParser(ctx, lexer, searchPath).run();
}

const TOP = new Set(['record', 'grecord', 'alias', 'include', 'path', 'addpath']);
const DBD = new Set(['menu', 'recordtype', 'device', 'driver', 'registrar', 'function', 'variable', 'breaktable', 'link']);
const BODY = new Set(['field', 'info', 'alias', 'include']);
const MAX_JSON_DEPTH = 64;

const describe = (t: Token): string => (t.kind === 'eof' ? 'end of file' : t.kind === 'string' ? `"${t.text}"` : `'${t.text}'`);
const isPunct = (t: Token, c: string): boolean => t.kind === 'punct' && t.text === c;
const isKeyword = (t: Token, set: ReadonlySet<string>): boolean => t.kind === 'word' && set.has(t.text);

/** Recursive-descent parser of the database grammar with error recovery. */
class DbParser {
  private la: Token | null = null;
  private readonly dbdNoted = new Set<string>();

  constructor(private readonly ctx: LoadContext, private readonly lex: DbLexer, private searchPath: string[]) {}

  run(): void {
    while (this.peek().kind !== 'eof') this.item();
  }

  private peek(): Token {
    if (this.la === null) this.la = this.lex.next();
    return this.la;
  }

  private take(): Token {
    const t = this.peek();
    this.la = null;
    return t;
  }

  private error(t: Token, message: string): void {
    this.ctx.diags.error(t.file, t.line, t.col, message);
  }

  private expect(c: string, context: string): boolean {
    const t = this.peek();
    if (isPunct(t, c)) {
      this.take();
      return true;
    }
    this.error(t, `expected '${c}' ${context} but found ${describe(t)}`);
    return false;
  }

  private str(context: string): Token | null {
    const t = this.peek();
    if (t.kind === 'word' || t.kind === 'string') return this.take();
    this.error(t, `expected ${context} but found ${describe(t)}`);
    return null;
  }

  private item(): void {
    const t = this.peek();
    if (t.kind === 'word') {
      if (t.text === 'record' || t.text === 'grecord') { this.take(); this.record(); return; }
      if (t.text === 'alias') { this.take(); this.topAlias(); return; }
      if (t.text === 'include') { this.take(); this.include(); return; }
      if (t.text === 'path' || t.text === 'addpath') { this.take(); this.pathCommand(t.text); return; }
      if (DBD.has(t.text)) { this.take(); this.skipDbd(t); return; }
    }
    this.error(t, `unexpected ${describe(t)}: expected record, alias, include, path or addpath`);
    this.take();
    this.syncTop();
  }

  /** Skip to the next top-level keyword after a syntax error. */
  private syncTop(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof' || isKeyword(t, TOP) || isKeyword(t, DBD)) return;
      this.take();
    }
  }

  /** Skip inside a record body to the next body keyword, `}`, or a top-level keyword. */
  private syncBody(): void {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof' || isPunct(t, '}') || isKeyword(t, BODY) || isKeyword(t, TOP)) return;
      this.take();
      if (isPunct(t, '{')) this.skipBalanced('{', '}');
    }
  }

  /** After an opening `open` was taken: skip to its matching `close` (or the end). */
  private skipBalanced(open: string, close: string): void {
    let depth = 1;
    for (;;) {
      const t = this.take();
      if (t.kind === 'eof') { this.la = t; return; }
      if (isPunct(t, open)) depth++;
      else if (isPunct(t, close) && --depth === 0) return;
    }
  }

  private skipDbd(kw: Token): void {
    const key = `${kw.file}\0${kw.text}`;
    if (!this.dbdNoted.has(key)) {
      this.dbdNoted.add(key);
      this.ctx.diags.note(kw.file, kw.line, kw.col, `'${kw.text}' definitions belong in .dbd files; skipped`);
    }
    if (isPunct(this.peek(), '(')) { this.take(); this.skipBalanced('(', ')'); }
    if (isPunct(this.peek(), '{')) { this.take(); this.skipBalanced('{', '}'); }
  }

  private include(): void {
    const t = this.str('a file name after include');
    if (t === null) return;
    const x = expandEnv(this.ctx, t.text);
    const tried = candidates(x.text, this.searchPath, this.ctx.cwd);
    if (this.lex.full) {
      this.error(t, `include '${t.text}' nests too deeply; skipped`);
      return;
    }
    const cyclic = tried.find((p) => this.lex.reading(p) && readLines(this.ctx, p) !== null);
    if (cyclic !== undefined) {
      this.error(t, `include cycle: '${cyclic}' is already being read; skipped`);
      return;
    }
    const found = openDbFile(this.ctx, t.text, this.searchPath, t, 'include file');
    if (found !== null) this.lex.push(found.path, found.lines);
  }

  private pathCommand(kind: string): void {
    const t = this.str(`a directory list after ${kind}`);
    if (t === null) return;
    const dirs = splitSearchPath(t.text);
    this.searchPath = kind === 'path' ? dirs : [...this.searchPath, ...dirs];
  }

  private record(): void {
    if (!this.expect('(', 'after record')) { this.syncTop(); return; }
    const type = this.str('a record type');
    if (type === null || !this.expect(',', 'after the record type')) { this.syncTop(); return; }
    const name = this.str('a record name');
    if (name === null || !this.expect(')', 'after the record name')) { this.syncTop(); return; }
    let target: MutableRecord | null = null;
    let deleting = false;
    const problem = checkRecordName(name.text);
    if (problem !== null) {
      this.ctx.diags.add(problem.severity, name.file, name.line, name.col, problem.message);
    }
    if (type.text === '') {
      this.error(type, `record type of '${name.text}' is empty; record skipped`);
    } else if (problem === null || problem.severity === 'warning') {
      if (type.text === '#') {
        deleting = true;
        if (!this.ctx.records.delete(name.text)) {
          this.ctx.diags.warning(name.file, name.line, name.col, `record '${name.text}' not found, cannot delete it`);
        }
      } else {
        const opened = this.ctx.records.open(type.text, name.text);
        if (opened.ok) target = opened.record;
        else this.error(type, `${opened.message}; this block is skipped`);
      }
    }
    if (isPunct(this.peek(), '{')) this.body(target, name, deleting);
  }

  private body(target: MutableRecord | null, name: Token, deleting: boolean): void {
    const open = this.take();
    for (;;) {
      const t = this.peek();
      if (isPunct(t, '}')) { this.take(); return; }
      if (t.kind === 'eof') {
        this.error(open, `missing '}': the body of record '${name.text}' is not closed`);
        return;
      }
      if (t.kind === 'word' && (t.text === 'field' || t.text === 'info')) {
        this.take();
        this.setting(t.text, deleting ? null : target);
        continue;
      }
      if (t.kind === 'word' && t.text === 'alias') {
        this.take();
        this.bodyAlias(target);
        continue;
      }
      if (t.kind === 'word' && t.text === 'include') {
        this.take();
        this.include();
        continue;
      }
      if (isKeyword(t, TOP) || isKeyword(t, DBD)) {
        this.error(t, `missing '}' before '${t.text}': the body of record '${name.text}' (line ${open.line}) is not closed`);
        return;
      }
      this.error(t, `unexpected ${describe(t)} in the body of record '${name.text}': expected field, info, alias or '}'`);
      this.take();
      this.syncBody();
    }
  }

  private setting(kind: 'field' | 'info', target: MutableRecord | null): void {
    if (!this.expect('(', `after ${kind}`)) { this.syncBody(); return; }
    const key = this.str(kind === 'field' ? 'a field name' : 'an info name');
    if (key === null || !this.expect(',', `after the ${kind} name`)) { this.syncBody(); return; }
    const value = this.value();
    if (value === null || !this.expect(')', `after the ${kind} value`)) { this.syncBody(); return; }
    if (key.text === '') {
      this.error(key, `${kind} name is empty; ignored`);
      return;
    }
    if (target === null) return;
    if (kind === 'field') target.fields[key.text] = value;
    else target.infos[key.text] = value;
  }

  /** A field or info value: quoted (C escapes translated), bare, or a JSON object/array as the IOC rebuilds it. */
  private value(): string | null {
    if (this.la === null) {
      const c = this.lex.peekChar();
      if (c === '{' || c === '[') return this.json(0);
    }
    const t = this.peek();
    if (t.kind === 'string') { this.take(); return translateEscapes(t.text); }
    if (t.kind === 'word') { this.take(); return t.text; }
    this.error(t, `expected a value but found ${describe(t)}`);
    return null;
  }

  private json(depth: number): string | null {
    const t = this.lex.nextJson();
    if (depth > MAX_JSON_DEPTH) {
      this.error(t, 'JSON value nests too deeply');
      return null;
    }
    if (t.kind === 'string') return `"${t.text}"`;
    if (t.kind === 'word') {
      return /^(null|true|false|[-+]?(\d|0[xX][0-9a-fA-F]+|NaN|Infinity|\.\d)[\w.+-]*)$/.test(t.text) ? t.text : `"${t.text}"`;
    }
    if (isPunct(t, '{')) {
      const members: string[] = [];
      for (;;) {
        const k = this.lex.nextJson();
        if (isPunct(k, '}')) return `{${members.join(',')}}`;
        if (isPunct(k, ',') && members.length > 0) continue;
        if (k.kind !== 'string' && k.kind !== 'word') {
          this.error(k, `expected a JSON key but found ${describe(k)}`);
          return null;
        }
        const colon = this.lex.nextJson();
        if (!isPunct(colon, ':')) {
          this.error(colon, `expected ':' in a JSON object but found ${describe(colon)}`);
          return null;
        }
        const v = this.json(depth + 1);
        if (v === null) return null;
        members.push(`"${k.text}":${v}`);
      }
    }
    if (isPunct(t, '[')) {
      let out = '';
      for (;;) {
        if (this.lex.peekChar() === ']') { this.lex.nextJson(); return `[${out}]`; }
        const v = this.json(depth + 1);
        if (v === null) return null;
        out += v;
        const sep = this.lex.nextJson();
        if (isPunct(sep, ']')) return `[${out}]`;
        if (!isPunct(sep, ',')) {
          this.error(sep, `expected ',' or ']' in a JSON array but found ${describe(sep)}`);
          return null;
        }
        out += ',';
      }
    }
    this.error(t, `expected a JSON value but found ${describe(t)}`);
    return null;
  }

  private bodyAlias(target: MutableRecord | null): void {
    if (!this.expect('(', 'after alias')) { this.syncBody(); return; }
    const a = this.str('an alias name');
    if (a === null || !this.expect(')', 'after the alias name')) { this.syncBody(); return; }
    this.alias(target, a);
  }

  private alias(target: MutableRecord | null, a: Token): void {
    const problem = checkRecordName(a.text);
    if (problem !== null) {
      this.ctx.diags.add(problem.severity, a.file, a.line, a.col, problem.message.replace('record name', 'alias name'));
      if (problem.severity === 'error') return;
    }
    if (target === null) return;
    const err = this.ctx.records.addAlias(target, a.text);
    if (err !== null) this.error(a, err);
  }

  private topAlias(): void {
    if (!this.expect('(', 'after alias')) { this.syncTop(); return; }
    const name = this.str('a record name');
    if (name === null || !this.expect(',', 'after the record name')) { this.syncTop(); return; }
    const a = this.str('an alias name');
    if (a === null || !this.expect(')', 'after the alias name')) { this.syncTop(); return; }
    const target = this.ctx.records.find(name.text);
    if (target === undefined) {
      const problem = checkRecordName(name.text);
      this.error(name, problem?.severity === 'error' ? problem.message
        : `alias '${a.text}' names an unknown record '${name.text}'`);
      return;
    }
    this.alias(target, a);
  }
}
