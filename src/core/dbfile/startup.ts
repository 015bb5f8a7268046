/**
 * Reading an IOC startup script (`st.cmd`) the way iocsh runs it, for the commands that shape the record list:
 * `epicsEnvSet`/`epicsEnvUnset`, `cd`, `< file`, `iocshLoad`/`runScript` (with macros), `dbLoadRecords`,
 * `dbLoadTemplate`, `iocInit`, `exit`. Everything else is skipped with a note. Macros `$(VAR)`, `${VAR}`,
 * `$(VAR=default)` expand from the script's macros and the environment; a line with an undefined macro is skipped,
 * as iocsh skips it.
 */
import { posix } from 'node:path';
import type { ParseResult } from '../model.js';
import { createContext, noteUnreadable, readLines, type LoadContext, type Origin } from './context.js';
import { loadDatabaseInto } from './database.js';
import type { FileSource } from './file-source.js';
import { splitCommand, type Word } from './iocsh-split.js';
import { parseMacroDefinitions } from './macro-defs.js';
import { MacroTable } from './macros.js';
import { resolveIn, splitSearchPath } from './search-path.js';
import { DiagnosticSink } from './diagnostics.js';
import { loadTemplateInto } from './substitutions.js';

/** Options of parseStartup: where files come from and the environment the IOC starts with. */
export interface StartupOptions {
  readonly files: FileSource;
  readonly env?: Readonly<Record<string, string>>;
}

/** Nested scripts deeper than this are refused (a script that loads itself would otherwise never end). */
const MAX_SCRIPT_DEPTH = 16;

interface ShellState {
  readonly ctx: LoadContext;
  readonly macros: MacroTable;
  readonly scripts: string[];
  iocInit: Origin | null;
}

/**
 * Parse the startup script `stCmdPath` and everything it loads. Relative paths are resolved against the IOC's
 * current directory, which starts as the script's directory and follows `cd`.
 */
export function parseStartup(stCmdPath: string, opts: StartupOptions): ParseResult {
  const ctx = createContext(opts.files, opts.env ?? {}, posix.dirname(stCmdPath));
  const state: ShellState = {
    ctx, macros: new MacroTable((name) => ctx.env.get(name)), scripts: [], iocInit: null,
  };
  const path = posix.normalize(stCmdPath);
  if (readLines(ctx, path) === null) {
    ctx.diags.error(stCmdPath, 1, 1, `cannot read startup script '${stCmdPath}'`);
  } else {
    runScript(state, path, null, { file: stCmdPath, line: 1, col: 1 });
  }
  return {
    env: Object.fromEntries(ctx.env), records: ctx.records.toRecords(), diagnostics: ctx.diags.finish(stCmdPath),
    unreadable: ctx.unreadable,
  };
}

function runScript(state: ShellState, path: string, macros: string | null, origin: Origin): void {
  const { ctx } = state;
  const lines = readLines(ctx, path);
  if (lines === null) {
    const message = `cannot open script '${path}'`;
    ctx.diags.error(origin.file, origin.line, origin.col, message);
    noteUnreadable(ctx, path, [path], origin, message);
    return;
  }
  if (state.scripts.includes(path) || state.scripts.length >= MAX_SCRIPT_DEPTH) {
    ctx.diags.error(origin.file, origin.line, origin.col,
      state.scripts.includes(path) ? `script '${path}' is already running (a cycle); skipped` : `scripts nest too deeply; '${path}' skipped`);
    return;
  }
  // records of a nested script are reached through it (the startup script itself is never unreadable here)
  const nested = state.scripts.length > 0;
  state.scripts.push(path);
  if (nested) ctx.via.push(path);
  state.macros.pushScope();
  if (macros !== null) state.macros.defineAll(parseMacroDefinitions(macros));
  try {
    for (let n = 0; n < lines.length; n++) {
      if (!runLine(state, path, n + 1, lines[n] ?? '', macros)) break;
    }
  } finally {
    state.macros.popScope();
    state.scripts.pop();
    if (nested) ctx.via.pop();
  }
}

/** Run one line; false after `exit`. */
function runLine(state: ShellState, file: string, line: number, raw: string, macros: string | null): boolean {
  const { ctx } = state;
  let i = 0;
  while (i < raw.length && /\s/.test(raw[i] ?? '')) i++;
  if (i >= raw.length || raw[i] === '#') return true;
  const x = state.macros.expand(raw);
  if (x.problems.length > 0) {
    for (const p of x.problems) {
      const what = p.kind === 'undefined' ? `macro '${p.name}' is undefined` : p.kind === 'recursive'
        ? `macro '${p.name}' is defined in terms of itself` : 'macro expansion is too long';
      ctx.diags.error(file, line, p.offset + 1, `${what}; the IOC skips this line`);
    }
    return true;
  }
  const text = x.text;
  const colOf = (offset: number): number => (x.map === null ? offset : x.map.toSource(offset)) + 1;
  while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  if (i >= text.length || text[i] === '#') return true;
  const split = splitCommand(text, i);
  if (!split.ok) {
    ctx.diags.error(file, line, colOf(split.offset), `${split.error}; the IOC skips this line`);
    return true;
  }
  const at = (w: Word | undefined): Origin => ({ file, line, col: colOf(w?.offset ?? i) });
  const input = split.redirects.find((r) => r.fd === 0);
  if (split.argv.length === 0) {
    if (input !== undefined) runScript(state, resolveIn(ctx.cwd, input.name.text), macros, at(input.name));
    return true;
  }
  const [cmd, ...args] = split.argv;
  if (cmd === undefined) return true;
  if (cmd.text === 'exit') return false;
  command(state, cmd, args, at);
  return true;
}

function command(state: ShellState, cmd: Word, args: readonly Word[], at: (w: Word | undefined) => Origin): void {
  const { ctx } = state;
  const where = at(cmd);
  const a0 = args[0];
  const a1 = args[1];
  const usage = (text: string): void => ctx.diags.error(where.file, where.line, where.col, `${cmd.text}: ${text}`);
  switch (cmd.text) {
    case 'epicsEnvSet':
      if (a0 === undefined || a0.text === '') return usage('missing variable name');
      if (a1 === undefined) return usage(`missing value for '${a0.text}'`);
      ctx.env.set(a0.text, a1.text);
      state.macros.forget(a0.text);
      return;
    case 'epicsEnvUnset':
      if (a0 === undefined) return usage('missing variable name');
      ctx.env.delete(a0.text);
      state.macros.forget(a0.text);
      return;
    case 'cd':
      if (a0 === undefined) return usage('missing directory');
      ctx.cwd = resolveIn(ctx.cwd, a0.text);
      return;
    case 'iocshLoad':
    case 'runScript':
      if (a0 === undefined) return usage('missing script name');
      runScript(state, resolveIn(ctx.cwd, a0.text), a1?.text ?? null, at(a0));
      return;
    case 'dbLoadRecords':
    case 'dbLoadTemplate': {
      if (a0 === undefined || a0.text === '') return usage('missing file name');
      if (state.iocInit !== null) {
        usage(`called after iocInit (line ${state.iocInit.line}); the IOC refuses to load records now, '${a0.text}' skipped`);
        return;
      }
      if (cmd.text === 'dbLoadRecords') loadDatabaseInto(ctx, a0.text, a1?.text ?? null, at(a0));
      else loadTemplateInto(ctx, a0.text, a1?.text ?? '', at(a0));
      return;
    }
    case 'dbLoadDatabase': {
      // the .dbd files tell which record types (and fields) exist; without them nothing is checked against them
      if (a0 === undefined || a0.text === '') return usage('missing file name');
      const path = a1 === undefined || a1.text === '' ? undefined : splitSearchPath(a1.text);
      const quiet = new DiagnosticSink();
      const mode = path === undefined ? { dbd: true } : { dbd: true, searchPath: path };
      const loaded = loadDatabaseInto({ ...ctx, diags: quiet }, a0.text, args[2]?.text ?? null, at(a0), mode);
      if (!loaded) {
        ctx.dbd.failed = true;
        const d = quiet.list[0];
        ctx.diags.warning(where.file, where.line, where.col,
          `${d?.message ?? `cannot open '${a0.text}'`}; record types and fields are not checked against the .dbd files`);
      } else {
        ctx.dbd.read++;
        for (const d of quiet.list) ctx.diags.add(d.severity, d.file, d.line, d.col, d.message);
      }
      return;
    }
    case 'iocInit':
      if (state.iocInit !== null) {
        ctx.diags.warning(where.file, where.line, where.col, `iocInit was already called (line ${state.iocInit.line}); ignored`);
        return;
      }
      state.iocInit = where;
      return;
    default:
      ctx.diags.note(where.file, where.line, where.col, `command '${cmd.text}' skipped: it does not shape the record list`);
  }
}
