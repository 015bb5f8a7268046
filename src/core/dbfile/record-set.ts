/**
 * The records an IOC has defined so far, with EPICS Base's rules for a record seen twice (same type, or `*`, adds
 * and overrides), for aliases (never shadowing a record or another record's alias) and for record names.
 */
import type { IocRecord } from '../model.js';

/** A record while it is being built. */
export interface MutableRecord {
  readonly name: string;
  readonly type: string;
  readonly fields: Record<string, string>;
  readonly infos: Record<string, string>;
  readonly aliases: string[];
}

/** Why a record name is refused or suspicious: `error` refuses it, `warning` keeps it. */
export interface NameProblem {
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

/** Check a record or alias name as dbRecordNameValidate does. */
export function checkRecordName(name: string): NameProblem | null {
  if (name === '') return { severity: 'error', message: 'record or alias name is empty' };
  if (name.includes('$(') || name.includes('${')) {
    return { severity: 'error', message: `record name '${name}' contains an unexpanded macro; the IOC refuses it` };
  }
  for (const c of name) {
    if (c === ' ' || c === '\t' || c === '"' || c === "'" || c === '.' || c === '$') {
      return { severity: 'error', message: `bad character '${c}' in record name '${name}'; the IOC refuses it` };
    }
  }
  // eslint-disable-next-line no-control-regex -- control characters are what is being looked for
  if (/[\u0000-\u001f]/.test(name)) return { severity: 'warning', message: `record name '${name}' contains a non-printable character` };
  const first = name[0];
  if (first === '-' || first === '+' || first === '[' || first === '{') {
    return { severity: 'warning', message: `record name '${name}' should not begin with '${first}'` };
  }
  return null;
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

  /** Open `record(type, name)`: create it, or reopen an existing one of the same type (or type `*`). */
  open(type: string, name: string): OpenResult {
    const existing = this.find(name);
    if (type === '*') {
      if (existing === undefined) return { ok: false, message: `record '${name}' not found (record type '*' needs an existing record)` };
      return { ok: true, record: existing, created: false };
    }
    if (existing !== undefined) {
      if (existing.type !== type) {
        return { ok: false, message: `${type} record '${name}' cannot be loaded: a ${existing.type} record of that name already exists` };
      }
      return { ok: true, record: existing, created: false };
    }
    const record: MutableRecord = { name, type, fields: {}, infos: {}, aliases: [] };
    this.byName.set(name, record);
    return { ok: true, record, created: true };
  }

  /** Delete a record and its aliases (`record("#", name)`); false when there is no such record. */
  delete(name: string): boolean {
    const rec = this.find(name);
    if (rec === undefined) return false;
    this.byName.delete(rec.name);
    for (const a of rec.aliases) this.aliasOf.delete(a);
    return true;
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
