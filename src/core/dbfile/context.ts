/**
 * State shared by every loader of one IOC parse: where files come from, the records so far, the diagnostics, the
 * IOC's environment and current directory, and a cache of file contents (a template is read once, not per row).
 */
import type { UnreadableFile } from '../model.js';
import type { FileSource } from './file-source.js';
import { DiagnosticSink } from './diagnostics.js';
import { RecordSet } from './record-set.js';
import { MacroTable } from './macros.js';

/** Where a diagnostic about a whole file (not found, cycle) is reported: the command or line that named it. */
export interface Origin {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A field of a record type, from a .dbd file: its DBF type and (for DBF_STRING) its size including the NUL. */
export interface FieldInfo {
  readonly type: string;
  readonly size: number;
}

/**
 * The record types the IOC knows, from the .dbd files given to dbLoadDatabase. They are only used to refuse what
 * the IOC refuses when every .dbd file named could be read (`failed` false and at least one read).
 */
export interface DbdState {
  readonly types: Map<string, Map<string, FieldInfo>>;
  read: number;
  failed: boolean;
}

/** The record types to check against, or null when they are not known (no .dbd read, or one missing). */
export function knownTypes(ctx: LoadContext): ReadonlyMap<string, ReadonlyMap<string, FieldInfo>> | null {
  return ctx.dbd.read > 0 && !ctx.dbd.failed ? ctx.dbd.types : null;
}

/** The mutable state of one parse. */
export interface LoadContext {
  readonly files: FileSource;
  readonly records: RecordSet;
  readonly diags: DiagnosticSink;
  readonly env: Map<string, string>;
  cwd: string;
  readonly lineCache: Map<string, readonly string[] | null>;
  /** Where a file name was found, per directory and search path. */
  readonly found: Map<string, string>;
  /** Record types from .dbd files. */
  readonly dbd: DbdState;
  /** The files being read around the current one: nested scripts, the substitution file (outermost first). */
  readonly via: string[];
  /** Files named by the configuration (for records) that could not be read. */
  readonly unreadable: UnreadableFile[];
}

/** A fresh context. */
export function createContext(files: FileSource, env: Readonly<Record<string, string>> = {}, cwd = '.'): LoadContext {
  return {
    files, records: new RecordSet(), diags: new DiagnosticSink(), env: new Map(Object.entries(env)), cwd,
    lineCache: new Map(), found: new Map(), dbd: { types: new Map(), read: 0, failed: false }, via: [], unreadable: [],
  };
}

/** The lines of a file (without their newlines), read once per parse; null when it cannot be read. */
export function readLines(ctx: LoadContext, path: string): readonly string[] | null {
  const cached = ctx.lineCache.get(path);
  if (cached !== undefined) return cached;
  const text = ctx.files.readText(path);
  const lines = text === undefined ? null : text.split('\n');
  if (lines !== null && lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  ctx.lineCache.set(path, lines);
  return lines;
}

/** Note that `name` (tried at `paths`) could not be read, as reported at `at` with `message`. */
export function noteUnreadable(ctx: LoadContext, name: string, paths: readonly string[], at: Origin, message: string): void {
  // a template named by many rows of a substitution file is one unreadable file
  const key = paths.join('\0');
  if (ctx.unreadable.some((u) => u.name === name && u.paths.join('\0') === key)) return;
  let reason: string | undefined;
  for (const p of paths) {
    const f = ctx.files.failure?.(p);
    if (f !== undefined && (reason === undefined || reason === 'ENOENT')) reason = f; // EIO says more than ENOENT
  }
  ctx.unreadable.push({
    name, paths: [...paths], at: { file: at.file, line: at.line, col: at.col }, message,
    ...(reason === undefined ? {} : { reason }),
  });
}

/** Expand environment variables in a file name as macEnvExpand; `undefinedNames` lists what could not be expanded. */
export function expandEnv(ctx: LoadContext, text: string): { text: string; undefinedNames: string[] } {
  if (text.indexOf('$') < 0) return { text, undefinedNames: [] };
  const table = new MacroTable((name) => ctx.env.get(name));
  const x = table.expand(text);
  return { text: x.text, undefinedNames: x.problems.map((p) => p.name) };
}
