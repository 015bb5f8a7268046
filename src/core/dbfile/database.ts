/**
 * Loading one database file (`.db`, `.template`, `.vdb`, or a `.dbd` given to dbLoadDatabase) with macros, as the
 * IOC's dbLoadRecords does (a port of the grammar of EPICS Base 7.0.3.1's dbYacc.y and the rules of
 * dbLexRoutines.c): records, fields, info tags, aliases, `include`/`path`/`addpath`, record types from .dbd
 * blocks. Where the IOC stops reading the file (a syntax error, or an error it aborts on), the records it would
 * hold are the result; the parser reads on without loading anything, to report each record the IOC leaves out.
 */
import type { Diagnostic, IocRecord } from '../model.js';
import {
  createContext, expandEnv, knownTypes, noteUnreadable, readLines, type FieldInfo, type LoadContext, type Origin,
} from './context.js';
import { DbLexer, type Token } from './db-lexer.js';
import { DiagnosticSink } from './diagnostics.js';
import { translateEscapes } from './escapes.js';
import type { FileSource } from './file-source.js';
import { parseMacroDefinitions } from './macro-defs.js';
import { MacroTable } from './macros.js';
import { checkRecordName, type MutableRecord, type RecordSource } from './record-set.js';
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

/** Where the IOC stopped reading a file: the error's place and the file given to the command that was stopped. */
export interface StopPoint {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly stopped: string;
}

/** How one file is loaded: as a .dbd (dbLoadDatabase), with a search path, or not at all (already stopped). */
export interface LoadMode {
  /** A dbLoadDatabase load: .dbd blocks are its business, no note about them. */
  readonly dbd?: boolean;
  /** The search path (dbLoadDatabase's second argument), instead of EPICS_DB_INCLUDE_PATH. */
  readonly searchPath?: readonly string[];
  /** The IOC never loads this (a substitution file stopped before the row): report each record as not loaded. */
  readonly stoppedAt?: StopPoint;
}

/** Load one database file with macros `"P=X:,R=Y"`, as `dbLoadRecords(path, macros)` would on a fresh IOC. */
export function loadDatabase(path: string, macros: string, opts: DatabaseOptions): DatabaseResult {
  const ctx = createContext(opts.files, opts.env ?? {}, opts.cwd ?? '.');
  loadDatabaseInto(ctx, path, macros, { file: path, line: 1, col: 1 });
  return { records: ctx.records.toRecords(), diagnostics: ctx.diags.finish(path) };
}

/**
 * Find a file as dbOpenFile does (env macros expanded, then the search path); reports at `origin` when it fails,
 * and with `track` also notes it in the context's unreadable files (a load the IOC makes, for records).
 */
export function openDbFile(ctx: LoadContext, name: string, searchPath: readonly string[], origin: Origin,
  what: string, diags: DiagnosticSink = ctx.diags, track = false): { path: string; lines: readonly string[] } | null {
  const x = expandEnv(ctx, name);
  if (x.undefinedNames.length > 0) {
    diags.error(origin.file, origin.line, origin.col,
      `cannot open ${what} '${name}': environment variable '${x.undefinedNames[0] ?? ''}' is undefined`);
    return null;
  }
  if (x.text === '') {
    diags.error(origin.file, origin.line, origin.col, `cannot open ${what}: the file name is empty`);
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
  const message = `cannot open ${what} '${x.text}' (tried ${tried.join(', ')})`;
  diags.error(origin.file, origin.line, origin.col, message);
  if (track) noteUnreadable(ctx, x.text, tried, origin, message);
  return null;
}

/** The search path of a load: EPICS_DB_INCLUDE_PATH from the IOC's environment, else `.`. */
export function dbSearchPath(ctx: LoadContext): string[] {
  const env = ctx.env.get('EPICS_DB_INCLUDE_PATH');
  return env === undefined || env.trim() === '' ? ['.'] : splitSearchPath(env);
}

/**
 * Load a database file into the shared context (dbLoadRecords, each row of dbLoadTemplate, dbLoadDatabase).
 * `macros` null: no macro argument was given, and the IOC then expands nothing. False when the file was not found.
 */
export function loadDatabaseInto(ctx: LoadContext, path: string, macros: string | null, origin: Origin,
  mode: LoadMode = {}): boolean {
  const searchPath = mode.searchPath === undefined ? dbSearchPath(ctx) : [...mode.searchPath];
  // a load the IOC never makes reports only the records it leaves out
  const diags = mode.stoppedAt === undefined ? ctx.diags : new DiagnosticSink();
  const found = openDbFile(ctx, path, searchPath, origin, mode.dbd === true ? 'database definition file' : 'database file', diags,
    mode.dbd !== true && mode.stoppedAt === undefined);
  if (found === null) return false;
  let table: MacroTable | null = null;
  if (macros !== null) {
    table = new MacroTable();
    table.defineAll(parseMacroDefinitions(macros));
  }
  const lexer = new DbLexer(table, diags);
  lexer.push(found.path, found.lines);
  new DbParser(ctx, diags, lexer, searchPath, found.path, mode).run();
  return true;
}

const NO_VIA: readonly string[] = [];
const KEYWORDS = new Set(['include', 'path', 'addpath', 'menu', 'choice', 'recordtype', 'field', 'device', 'driver',
  'link', 'breaktable', 'record', 'grecord', 'alias', 'info', 'registrar', 'function', 'variable']);
const TOP = new Set(['record', 'grecord', 'alias', 'include', 'path', 'addpath']);
const DBD = new Set(['menu', 'recordtype', 'device', 'driver', 'registrar', 'function', 'variable', 'breaktable', 'link']);
const BODY = new Set(['field', 'info', 'alias', 'include']);
/** Deeper JSON values are refused (bison would run out of stack long before anyone writes one). */
const MAX_JSON_DEPTH = 200;
/** Sizes of the DBF_STRING fields every record has (dbCommon), used when no .dbd was read. */
const COMMON_STRING_SIZES: Readonly<Record<string, number>> = { DESC: 41, ASG: 29 };

const describe = (t: Token): string => (t.kind === 'eof' ? 'end of file' : t.kind === 'string' ? `"${t.text}"` : `'${t.text}'`);
const isPunct = (t: Token, c: string): boolean => t.kind === 'punct' && t.text === c;
const isKeyword = (t: Token, set: ReadonlySet<string>): boolean => t.kind === 'word' && set.has(t.text);
const utf8Length = (s: string): number => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) { n += 4; i++; } else n += 3;
  }
  return n;
};

/**
 * Recursive-descent parser of the database grammar. While `live`, it does what the IOC does; after the IOC would
 * have stopped (a syntax error, or the line of an aborting error is used up) it reads on with error recovery and
 * only reports what the IOC leaves out.
 */
class DbParser {
  private la: Token | null = null;
  private readonly dbdNoted = new Set<string>();
  private live: boolean;
  private stop: StopPoint | null;
  private reported: Set<string> | null = null;
  /** Errors are not reported from a stop until the next top-level item: they are its consequences. */
  private quiet = false;

  constructor(private readonly ctx: LoadContext, private readonly diags: DiagnosticSink, private readonly lex: DbLexer,
    private searchPath: string[], private readonly top: string, private readonly mode: LoadMode) {
    this.stop = mode.stoppedAt ?? null;
    this.live = this.stop === null;
    lex.onInvalid = (at, message) => { this.abortAfterLine(at, message); };
  }

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
    this.passed(t);
    return t;
  }

  /** A token was consumed: once one lies beyond the line of an aborting error, the IOC has stopped. */
  private passed(t: Token): void {
    if (this.live && !this.lex.isLive(t)) this.live = false;
  }

  private onStopLine(t: Token): boolean {
    const s = this.stop;
    return s !== null && s.file === t.file && s.line === t.line && this.mode.stoppedAt === undefined;
  }

  /** A syntax error: the IOC's parser gives up at `t`, nothing after it is loaded. */
  private syntaxError(t: Token, message: string): void {
    if (this.live && this.stop === null) {
      this.stopAt(t);
      this.diags.error(t.file, t.line, t.col, `${message}; the IOC stops reading ${this.top} here`);
      return;
    }
    // after an aborting error, the IOC's input ends with that line: what breaks now is a consequence
    this.live = false;
    if (this.lex.skipBrokenString()) this.la = null;
    if (!this.quiet && !this.onStopLine(t)) this.diags.error(t.file, t.line, t.col, message);
  }

  /** An error the IOC aborts on (yyerrorAbort): it still reads the rest of that line, then stops. */
  private abortAfterLine(t: Token, message: string): void {
    if (this.live && this.stop === null && this.lex.isLive(t)) {
      this.stopAt(t);
      this.live = true; // the rest of the line is still read
      this.lex.abortAfter(t);
      this.diags.error(t.file, t.line, t.col, `${message}; the IOC stops reading ${this.top} after this line`);
    } else if (!this.quiet && !this.onStopLine(t)) {
      this.diags.error(t.file, t.line, t.col, message);
    }
  }

  /** The IOC stops at `t`; errors stay quiet until the parser is back at the start of a top-level item. */
  private stopAt(t: Token): void {
    this.live = false;
    this.lex.abortAfter(t);
    this.quiet = true;
    this.stop = { file: t.file, line: t.line, col: t.col, stopped: this.top };
  }

  /** The IOC refuses something but reads on (yyerror). */
  private error(t: Token, message: string): void {
    this.diags.error(t.file, t.line, t.col, message);
  }

  /** Why something after the stop is not loaded: "the IOC stops reading X at the error at L:C". */
  private stopReason(at: Token): string {
    const s = this.stop;
    if (s === null) return '';
    const where = s.file === at.file || s.file === s.stopped ? `${s.line}:${s.col}` : `${s.file}:${s.line}:${s.col}`;
    return `the IOC stops reading ${s.stopped} at the error at ${where}`;
  }

  /** One warning per record (or alias) that the IOC does not load because it stopped reading. */
  private notLoaded(at: Token, what: 'record' | 'alias', name: string): void {
    const key = `${what}\0${name}`;
    this.reported ??= new Set();
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const reason = this.stopReason(at);
    const message = what === 'alias' ? `alias '${name}' is not created: ${reason}`
      : this.ctx.records.find(name) !== undefined ? `this block of record '${name}' is not applied: ${reason}`
        : `record '${name}' is not loaded: ${reason}`;
    this.ctx.diags.warning(at.file, at.line, at.col, message);
  }

  private expect(c: string, context: string): boolean {
    const t = this.peek();
    if (isPunct(t, c)) {
      this.take();
      return true;
    }
    this.syntaxError(t, `expected '${c}' ${context} but found ${describe(t)}`);
    return false;
  }

  /** A tokenSTRING: quoted, or a bare word that is not a keyword. */
  private str(context: string): Token | null {
    const t = this.peek();
    if (t.kind === 'string' || (t.kind === 'word' && !KEYWORDS.has(t.text))) return this.take();
    const hint = t.kind === 'word' ? ` ('${t.text}' is a keyword here: quote it)` : '';
    this.syntaxError(t, `expected ${context} but found ${describe(t)}${hint}`);
    return null;
  }

  private item(): void {
    const t = this.peek();
    if (isKeyword(t, TOP) || isKeyword(t, DBD)) this.quiet = false;
    if (t.kind === 'word') {
      if (t.text === 'record' || t.text === 'grecord') { this.take(); this.record(); return; }
      if (t.text === 'alias') { this.take(); this.topAlias(); return; }
      if (t.text === 'include') { this.take(); this.include(); return; }
      if (t.text === 'path' || t.text === 'addpath') { this.take(); this.pathCommand(t.text); return; }
      if (t.text === 'recordtype') { this.take(); this.recordtype(t); return; }
      if (DBD.has(t.text)) { this.take(); this.skipDbd(t); return; }
    }
    this.syntaxError(t, `unexpected ${describe(t)}: expected record, alias, include, path or addpath`);
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
      const t = this.peek();
      if (t.kind === 'eof') return;
      this.take();
      if (isPunct(t, open)) depth++;
      else if (isPunct(t, close) && --depth === 0) return;
    }
  }

  /** One note per kind and file about .dbd blocks in a database file (none in a dbLoadDatabase load). */
  private noteDbd(kw: Token): void {
    const key = `${kw.file}\0${kw.text}`;
    if (this.mode.dbd === true || this.dbdNoted.has(key)) return;
    this.dbdNoted.add(key);
    this.diags.note(kw.file, kw.line, kw.col, `'${kw.text}' definitions belong in .dbd files${kw.text === 'recordtype' ? '' : '; skipped'}`);
  }

  private skipDbd(kw: Token): void {
    this.noteDbd(kw);
    if (isPunct(this.peek(), '(')) { this.take(); this.skipBalanced('(', ')'); }
    if (isPunct(this.peek(), '{')) { this.take(); this.skipBalanced('{', '}'); }
  }

  /** `recordtype(NAME) { field(F, DBF_X) { size(N) … } … }`: the IOC learns a record type and its fields. */
  private recordtype(kw: Token): void {
    this.noteDbd(kw);
    if (!this.expect('(', 'after recordtype')) { this.syncTop(); return; }
    const name = this.str('a record type name');
    if (name === null || !this.expect(')', 'after the record type name')) { this.syncTop(); return; }
    const fields = new Map<string, FieldInfo>();
    if (!isPunct(this.peek(), '{')) { this.syntaxError(this.peek(), `expected '{' after recordtype(${name.text})`); return; }
    this.take();
    for (;;) {
      const t = this.peek();
      if (isPunct(t, '}')) { this.take(); break; }
      if (t.kind === 'eof') { this.syntaxError(t, `missing '}': recordtype '${name.text}' is not closed`); return; }
      this.take();
      if (t.kind === 'cdef') continue;
      if (t.kind === 'word' && t.text === 'include') { this.include(); continue; }
      if (t.kind !== 'word' || t.text !== 'field') {
        this.syntaxError(t, `unexpected ${describe(t)} in recordtype '${name.text}'`);
        this.syncTop();
        return;
      }
      if (!this.expect('(', 'after field')) { this.syncTop(); return; }
      const f = this.str('a field name');
      if (f === null || !this.expect(',', 'after the field name')) { this.syncTop(); return; }
      const type = this.str('a field type');
      if (type === null || !this.expect(')', 'after the field type')) { this.syncTop(); return; }
      let size = 0;
      if (isPunct(this.peek(), '{')) {
        this.take();
        for (;;) {
          const item = this.take();
          if (isPunct(item, '}') || item.kind === 'eof') break;
          if (!isPunct(this.peek(), '(')) continue;
          this.take();
          const v = this.peek();
          if (item.text === 'size' && v.kind !== 'eof') size = Number.parseInt(v.text, 10) || 0;
          this.skipBalanced('(', ')');
        }
      }
      fields.set(f.text, { type: type.text, size });
    }
    if (this.live && !this.ctx.dbd.types.has(name.text)) this.ctx.dbd.types.set(name.text, fields);
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
    const found = openDbFile(this.ctx, t.text, this.searchPath, t, 'include file', this.diags, this.live && this.mode.dbd !== true);
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
    if (this.live) target = this.recordHead(type, name);
    else if (name.text !== '') this.notLoaded(name, 'record', name.text);
    if (isPunct(this.peek(), '{')) this.body(target, name);
  }

  // The including files of the lexer's stack come after the context's (nested scripts, substitution file).
  private sourceOf(name: Token): RecordSource {
    const files = this.lex.files();
    files.pop();
    const via = this.ctx.via.length === 0 && files.length === 0 ? NO_VIA : [...this.ctx.via, ...files];
    return { file: name.file, line: name.line, via };
  }

  /** dbRecordHead: create or reopen the record; null when its block is ignored. */
  private recordHead(type: Token, name: Token): MutableRecord | null {
    if (name.text === '') {
      this.abortAfterLine(name, 'record name is empty');
      return null;
    }
    const warning = checkRecordName(name.text);
    if (warning !== null) this.diags.warning(name.file, name.line, name.col, warning);
    if (type.text === '*') {
      const existing = this.ctx.records.find(name.text);
      if (existing === undefined) this.error(type, `record '${name.text}' not found (record type '*' needs an existing record); this block is ignored`);
      return existing ?? null;
    }
    const types = knownTypes(this.ctx);
    if (type.text === '' || type.text === '#' || (types !== null && !types.has(type.text))) {
      this.abortAfterLine(type, `record '${name.text}' is of unknown type '${type.text}'${types === null ? '' : ' (not in the loaded .dbd files)'}`);
      return null;
    }
    const opened = this.ctx.records.open(type.text, name.text, this.sourceOf(name));
    if (opened.ok) return opened.record;
    this.error(type, `${opened.message}; this block is ignored`);
    return null;
  }

  private body(target: MutableRecord | null, name: Token): void {
    const open = this.take();
    for (;;) {
      const t = this.peek();
      if (isPunct(t, '}')) { this.take(); return; }
      if (t.kind === 'eof') {
        this.syntaxError(t, `missing '}': the body of record '${name.text}' (line ${open.line}) is not closed`);
        return;
      }
      if (t.kind === 'word' && (t.text === 'field' || t.text === 'info')) {
        this.take();
        this.setting(t.text, target);
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
        this.syntaxError(t, `missing '}' before '${t.text}': the body of record '${name.text}' (line ${open.line}) is not closed`);
        return;
      }
      this.syntaxError(t, `unexpected ${describe(t)} in the body of record '${name.text}': expected field, info, alias or '}'`);
      this.take();
      this.syncBody();
    }
  }

  private setting(kind: 'field' | 'info', target: MutableRecord | null): void {
    if (!this.expect('(', `after ${kind}`)) { this.syncBody(); return; }
    const key = this.str(kind === 'field' ? 'a field name' : 'an info name');
    if (key === null || !this.expect(',', `after the ${kind} name`)) { this.syncBody(); return; }
    // dbRecordField/dbRecordInfo: quotes of a JSON string removed, then C escapes translated
    const first = this.jtake();
    const raw = first.kind === 'string' || first.kind === 'number' || (first.kind === 'word' && first.text !== 'null'
      && first.text !== 'true' && first.text !== 'false') ? first.text : this.json(first, 0);
    if (raw === null) { this.syncBody(); return; }
    if (!this.expect(')', `after the ${kind} value`)) { this.syncBody(); return; }
    if (!this.live) return;
    const value = first.kind === 'string' ? translateEscapes(raw) : raw.startsWith('"') ? translateEscapes(raw.slice(1, -1)) : translateEscapes(raw);
    if (kind === 'info') {
      if (key.text === '') { this.abortAfterLine(key, 'info name is empty'); return; }
      if (target !== null) target.infos[key.text] = value;
      return;
    }
    if (target !== null) this.setField(target, key, value);
  }

  /** dbRecordField → dbPutString: what the IOC refuses leaves the field unset, with a warning. */
  private setField(target: MutableRecord, key: Token, value: string): void {
    const field = key.text;
    const types = knownTypes(this.ctx);
    const info = types === null ? undefined : types.get(target.type)?.get(field);
    if (types !== null && info === undefined) {
      this.refuse(target, key, `record type '${target.type}' has no field '${field}'`);
      return;
    }
    if (field === 'NAME') {
      this.refuse(target, key, 'the IOC cannot set NAME');
      return;
    }
    if (value.includes('$') && (value.includes('$(') || value.includes('${'))) {
      this.refuse(target, key, `the value ${JSON.stringify(value)} has an unexpanded macro, which the IOC refuses`);
      return;
    }
    const size = info === undefined ? COMMON_STRING_SIZES[field] : info.type === 'DBF_STRING' ? info.size : undefined;
    if (size !== undefined && size > 0 && value.length * 3 >= size && utf8Length(value) >= size) {
      this.refuse(target, key, `the value ${JSON.stringify(value)} is ${utf8Length(value)} bytes; the field holds at most ${size - 1}`);
      return;
    }
    target.fields[field] = value;
  }

  private refuse(target: MutableRecord, key: Token, why: string): void {
    this.diags.warning(key.file, key.line, key.col, `field ${key.text} of record '${target.name}' is not set: ${why}`);
  }

  /** The next token in JSON mode, consumed. */
  private jtake(): Token {
    const t = this.lex.nextJson();
    this.passed(t);
    return t;
  }

  /** A JSON value starting at `t`, rebuilt as the IOC's grammar rebuilds it (null, true, false, objects, arrays). */
  private json(t: Token, depth: number): string | null {
    if (depth > MAX_JSON_DEPTH) {
      this.syntaxError(t, 'JSON value nests too deeply');
      return null;
    }
    if (t.kind === 'string') return `"${t.text}"`;
    if (t.kind === 'number') return t.text;
    if (t.kind === 'word') return t.text === 'null' || t.text === 'true' || t.text === 'false' ? t.text : `"${t.text}"`;
    if (isPunct(t, '{')) {
      const members: string[] = [];
      let k = this.jtake();
      if (isPunct(k, '}')) return '{}';
      for (;;) {
        const bareKey = k.kind === 'word' && k.text !== 'null' && k.text !== 'true' && k.text !== 'false';
        if (k.kind !== 'string' && !bareKey) {
          this.syntaxError(k, `expected a JSON key but found ${describe(k)}`);
          return null;
        }
        const colon = this.jtake();
        if (!isPunct(colon, ':')) {
          this.syntaxError(colon, `expected ':' in a JSON object but found ${describe(colon)}`);
          return null;
        }
        const v = this.json(this.jtake(), depth + 1);
        if (v === null) return null;
        members.push(`"${k.text}":${v}`);
        const sep = this.jtake();
        if (isPunct(sep, '}')) return `{${members.join(',')}}`;
        if (!isPunct(sep, ',')) {
          this.syntaxError(sep, `expected ',' or '}' in a JSON object but found ${describe(sep)}`);
          return null;
        }
        k = this.jtake();
        if (isPunct(k, '}')) return `{${members.join(',')}}`; // a trailing comma is dropped
      }
    }
    if (isPunct(t, '[')) {
      let e = this.jtake();
      if (isPunct(e, ']')) return '[]';
      let out = '';
      for (;;) {
        const v = this.json(e, depth + 1);
        if (v === null) return null;
        out += v;
        const sep = this.jtake();
        if (isPunct(sep, ']')) return `[${out}]`;
        if (!isPunct(sep, ',')) {
          this.syntaxError(sep, `expected ',' or ']' in a JSON array but found ${describe(sep)}`);
          return null;
        }
        out += ',';
        e = this.jtake();
        if (isPunct(e, ']')) return `[${out}]`; // a trailing comma is kept, as the IOC keeps it
      }
    }
    this.syntaxError(t, `expected a value but found ${describe(t)}`);
    return null;
  }

  private bodyAlias(target: MutableRecord | null): void {
    if (!this.expect('(', 'after alias')) { this.syncBody(); return; }
    const a = this.str('an alias name');
    if (a === null || !this.expect(')', 'after the alias name')) { this.syncBody(); return; }
    if (!this.live) return;
    if (a.text === '') { this.abortAfterLine(a, 'alias name is empty'); return; }
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
    if (!this.live) {
      if (a.text !== '') this.notLoaded(a, 'alias', a.text);
      return;
    }
    if (a.text === '') { this.abortAfterLine(a, 'alias name is empty'); return; }
    const target = this.ctx.records.find(name.text);
    if (target === undefined) {
      this.error(name, `alias '${a.text}' names an unknown record '${name.text}'`);
      return;
    }
    const err = this.ctx.records.addAlias(target, a.text);
    if (err !== null) this.error(a, err);
  }
}
