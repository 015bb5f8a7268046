/**
 * The records an IOC has defined so far, with EPICS Base's rules for a record seen twice (same type, or `*`, adds
 * and overrides), for aliases (never shadowing a record or another record's alias) and for record names.
 */
import type { IocRecord } from '../model.js';

/**
 * A record while it is being built; `file`, `line` tell where it was first defined, `via` the other files it
 * depends on: those through which that file was reached, and those that define it again (IocRecord).
 */
export interface MutableRecord {
  readonly name: string;
  readonly type: string;
  readonly fields: Record<string, string>;
  readonly infos: Record<string, string>;
  readonly aliases: string[];
  readonly file?: string;
  readonly line?: number;
  via?: readonly string[];
}

/** Where a record block is: its file and line, and the files through which that file was reached. */
export interface RecordSource {
  readonly file: string;
  readonly line: number;
  readonly via: readonly string[];
}

/**
 * What is suspicious about a record name, as dbRecordHead of Base 7.0.3.1 sees it: a blank, quote, `.` or `$` is
 * reported but the record is kept under that name (so is a macro left undefined); null when nothing is wrong.
 * Control characters and a leading `-`, `+`, `[`, `{` (which later Base versions warn about) are reported too.
 */
export function checkRecordName(name: string): string | null {
  // eslint-disable-next-line no-control-regex -- control characters are among what is looked for
  if (!/[ "'.$\u0000-\u001f]/.test(name) && !/^[-+[{]/.test(name)) return null;
  if (name.includes('$(') || name.includes('${')) {
    return `record name '${name}' contains an unexpanded macro; the IOC keeps the record under this name (it warns: bad character '$')`;
  }
  for (const c of name) {
    if (c === ' ' || c === '"' || c === "'" || c === '.' || c === '$') {
      return `bad character '${c}' in record name '${name}'; the IOC keeps the record under this name (it warns too)`;
    }
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is being looked for
  if (/[\u0000-\u001f]/.test(name)) return `record name '${name}' contains a non-printable character`;
  const first = name[0];
  if (first === '-' || first === '+' || first === '[' || first === '{') {
    return `record name '${name}' should not begin with '${first}'`;
  }
  return null;
}

// A record defined again depends on that block's file (and the files it was reached through) too.
function reopenedAt(record: MutableRecord, at: RecordSource | undefined): void {
  if (at === undefined || record.file === undefined) return;
  const known = new Set([record.file, ...(record.via ?? [])]);
  const more = [...at.via, at.file].filter((f) => !known.has(f));
  if (more.length > 0) record.via = [...(record.via ?? []), ...new Set(more)];
}

/** Outcome of opening a record block. */
export type OpenResult =
  | { readonly ok: true; readonly record: MutableRecord; readonly created: boolean }
  | { readonly ok: false; readonly message: string };

/** Ordered set of records with their aliases. */
export class RecordSet {
  private readonly byName = new Map<string, MutableRecord>();
  private readonly aliasOf = new Map<string, MutableRecord>();

  /** Number of records (aliases not counted). */
  get size(): number { return this.byName.size; }

  /** The record called `name`, looking through aliases. */
  find(name: string): MutableRecord | undefined {
    return this.byName.get(name) ?? this.aliasOf.get(name);
  }

  /**
   * Open `record(type, name)`: create it, or reopen an existing one of the same type (or type `*`). A new record
   * remembers `at`, where it is defined.
   */
  open(type: string, name: string, at?: RecordSource): OpenResult {
    const existing = this.find(name);
    if (type === '*') {
      if (existing === undefined) return { ok: false, message: `record '${name}' not found (record type '*' needs an existing record)` };
      reopenedAt(existing, at);
      return { ok: true, record: existing, created: false };
    }
    if (existing !== undefined) {
      if (existing.type !== type) {
        return { ok: false, message: `${type} record '${name}' cannot be loaded: a ${existing.type} record of that name already exists` };
      }
      reopenedAt(existing, at);
      return { ok: true, record: existing, created: false };
    }
    const record: MutableRecord = {
      name, type, fields: {}, infos: {}, aliases: [],
      ...(at === undefined ? {} : { file: at.file, line: at.line, ...(at.via.length > 0 ? { via: at.via } : {}) }),
    };
    this.byName.set(name, record);
    return { ok: true, record, created: true };
  }

  /** Give `record` the alias `alias`; returns an error message when the IOC would refuse it. */
  addAlias(record: MutableRecord, alias: string): string | null {
    if (this.byName.has(alias)) return `alias '${alias}' for record '${record.name}' is already a record name`;
    const other = this.aliasOf.get(alias);
    if (other !== undefined) {
      if (other === record) return null;
      return `alias '${alias}' for record '${record.name}' already aliases '${other.name}'`;
    }
    this.aliasOf.set(alias, record);
    record.aliases.push(alias);
    return null;
  }

  /** The records in the order they were first defined (the set's own objects: do not add to the set afterwards). */
  toRecords(): IocRecord[] {
    return [...this.byName.values()];
  }
}
