/**
 * `pvsync parse ST_CMD`: read an IOC's startup script and everything it loads, and print the records it would
 * define (text listing or JSON) with the diagnostics. Exits non-zero only when the script itself cannot be read.
 */
import type { Command } from 'commander';
import { nodeFileSource } from '../../adapters/fs/file-source.js';
import { parseStartup } from '../../core/dbfile/startup.js';
import { PvsError } from '../../core/errors.js';
import type { Diagnostic, ParseResult } from '../../core/model.js';

/** Options of the command as commander gives them. */
interface ParseOptions {
  readonly json?: boolean;
  readonly format?: string;
  readonly env: string[];
}

/** `file:line:col: severity: message`, as compilers print. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message}`;
}

/** A dbl-like listing: one line per record (name, type, DESC), aliases indented below it. */
export function formatRecords(result: ParseResult): string {
  const width = Math.min(40, result.records.reduce((w, r) => Math.max(w, r.name.length), 0));
  const typeWidth = result.records.reduce((w, r) => Math.max(w, r.type.length), 0);
  let out = '';
  for (const r of result.records) {
    const desc = r.fields['DESC'];
    out += `${r.name.padEnd(width)}  ${r.type.padEnd(typeWidth)}${desc === undefined ? '' : `  ${desc}`}`.trimEnd() + '\n';
    for (const a of r.aliases) out += `  alias ${a}\n`;
  }
  return out;
}

/** Merge `--env K=V` options over a base environment; a malformed entry is a configuration error. */
export function mergeEnv(base: Readonly<Record<string, string | undefined>>, pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new PvsError('PVS_CONFIG', `--env expects NAME=VALUE, got '${p}'`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/** Register `pvsync parse` on the program. */
export function register(program: Command): void {
  program.command('parse')
    .description('list the records an IOC startup script would define, with diagnostics')
    .argument('<st_cmd>', 'the startup script (st.cmd)')
    .option('--json', 'print JSON (same as --format json)')
    .option('--format <format>', 'text or json', 'text')
    .option('--env <NAME=VALUE>', 'set an environment variable for the IOC (repeatable)',
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action((stCmd: string, opts: ParseOptions) => {
      const format = opts.json === true ? 'json' : opts.format;
      if (format !== 'json' && format !== 'text') throw new PvsError('PVS_CONFIG', `--format must be text or json, got '${format ?? ''}'`);
      const files = nodeFileSource();
      if (files.readText(stCmd) === undefined) throw new PvsError('PVS_DB_FILE', `cannot read startup script '${stCmd}'`);
      const result = parseStartup(stCmd, { files, env: mergeEnv(process.env, opts.env) });
      if (format === 'json') {
        process.stdout.write(JSON.stringify(result) + '\n');
        return;
      }
      process.stdout.write(formatRecords(result));
      for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      const count = (s: Diagnostic['severity']): number => result.diagnostics.filter((d) => d.severity === s).length;
      process.stderr.write(`${result.records.length} records, ${count('error')} errors, ${count('warning')} warnings, ${count('note')} notes\n`);
    });
}
