/**
 * `pvsync upload --strict`: an IOC configuration with errors (a file that cannot be read, a syntax error the IOC
 * stops at, an undefined macro where the IOC skips a line…) is refused before anything is written to etcd.
 */
import { PvsError } from '../errors.js';
import type { ParseResult } from '../model.js';

/** Diagnostics listed in the refusal's message at most (the rest are counted). */
const LISTED = 20;

/** Throws PVS_DB_STRICT naming `file:line:col` of each error diagnostic (the first 20) when there is any. */
export function refuseErrors(parsed: ParseResult): void {
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return;
  const lines = errors.slice(0, LISTED).map((d) => `  ${d.file}:${d.line}:${d.col}: ${d.message}`);
  if (errors.length > LISTED) lines.push(`  … and ${errors.length - LISTED} more`);
  throw new PvsError('PVS_DB_STRICT',
    `the IOC configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}; nothing was written (--strict):\n${lines.join('\n')}`);
}
